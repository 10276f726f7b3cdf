-- Every landed event that is billed, or will be once its period closes: the landed events
-- that are neither duplicates nor quarantined (int_events_rejected), with the value their
-- metric reads.
with

events as (

    select * from {{ ref('stg_usage__events') }}

),

rejected as (

    select landing_seq from {{ ref('int_events_rejected') }}

),

metrics as (

    select billable_metric_code, field_name from {{ ref('stg_catalog__billable_metrics') }}

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
        {{ event_value_text() }} as value_text,
        coalesce(json_extract_string(events.properties, '$.operation_type'), 'add')
            as operation_type

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
