-- Every landed event that is billed, or will be once its period closes: the landed events
-- that are neither duplicates nor quarantined (int_events_rejected), with the value their
-- metric reads (int_events_checked: the same checks and value reads as the quarantine).
with

events as (

    select * from {{ ref('int_events_checked') }}

),

rejected as (

    select landing_seq from {{ ref('int_events_rejected') }}

),

metrics as (

    select billable_metric_code from {{ ref('stg_catalog__billable_metrics') }}

),

billable as (

    select
        events.landing_seq,
        events.transaction_id,
        events.external_subscription_id,
        events.code as billable_metric_code,
        events.event_at,
        events.properties,
        events.precise_total_amount_cents,
        events.value_text,
        events.operation_type

    from events
    anti join rejected using (landing_seq)
    inner join metrics on events.code = metrics.billable_metric_code

),

valued as (

    select
        *,
        try_cast(value_text as decimal(38, 12)) as value

    from billable

)

select * from valued
