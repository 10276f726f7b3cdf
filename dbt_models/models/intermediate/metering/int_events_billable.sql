-- Every landed event that is billed, or will be once its period closes: the landed events
-- that are neither duplicates nor quarantined (int_events_outcomes), with the value their
-- metric reads.
select
    landing_seq,
    transaction_id,
    external_subscription_id,
    code as billable_metric_code,
    event_at,
    properties,
    precise_total_amount_cents,
    value_text,
    coalesce(operation_type, 'add') as operation_type,
    try_cast(value_text as decimal(38, 12)) as value

from {{ ref('int_events_outcomes') }}
where reason is null
