-- Every landed event with its fields checked: the typed fields, whether they can be read
-- (field_problem), the value its metric reads and what the deduplication compares.
-- int_events_rejected and int_events_billable both start here. A view: int_events_rejected
-- reads it once (a materialized CTE) for the checks, the deduplication and the quarantine,
-- int_events_windowed once through int_events_billable; a table of every event would cost
-- more to write than the second read.
--
-- `properties` is kept only for the events of metrics whose charges read them later (a
-- filtered charge, a price with pricing group keys, a custom aggregator); elsewhere it is
-- null, so the 10M-row tables downstream do not carry JSON text nobody reads.
with

events as (

    select * from {{ ref('stg_usage__events') }}

),

metrics as (

    select billable_metric_code, field_name
    from {{ ref('stg_catalog__billable_metrics') }}

),

metrics_reading_properties as (

    select distinct charges.billable_metric_code
    from {{ ref('stg_catalog__charges') }} as charges
    inner join {{ ref('stg_catalog__charge_pricings') }} as pricings using (charge_id)
    where not pricings.is_default_bucket or len(pricings.pricing_group_keys) > 0

    union

    select billable_metric_code
    from {{ ref('stg_catalog__billable_metrics') }}
    where aggregation_type = 'custom_agg'

),

checked as (

    select
        events.landing_seq,
        events.transaction_id,
        events.external_subscription_id,
        events.code,
        events.event_at,
        events.properties,
        events.precise_total_amount_cents,
        -- the raw text of a timestamp that cannot be read, for the quarantine's detail:
        -- timestamp_text, which is timestamp_raw whenever event_at is null (there was no
        -- Parquet timestamp) without formatting every event's instant as text
        case when events.event_at is null then events.timestamp_text end
            as unreadable_timestamp,
        -- what two copies of an event must share to be the same event
        hash(events.code, events.event_at, events.properties_raw,
             events.precise_total_amount_cents_raw) as payload_hash,
        metrics.field_name,
        metrics_reading_properties.billable_metric_code is not null as properties_read,
        case
            when events.transaction_id is null then 'missing_transaction_id'
            when events.external_subscription_id is null then 'missing_external_subscription_id'
            when events.code is null then 'missing_code'
            when events.event_at is null then 'unreadable_timestamp'
            when events.properties is null or json_type(events.properties) <> 'OBJECT'
                then 'invalid_properties'
        end as field_problem

    from events
    left join metrics on events.code = metrics.billable_metric_code
    left join metrics_reading_properties
        on events.code = metrics_reading_properties.billable_metric_code

),

valued as (

    select
        landing_seq,
        transaction_id,
        external_subscription_id,
        code,
        event_at,
        field_problem,
        unreadable_timestamp,
        payload_hash,
        field_name,
        -- null when the event's fields cannot be read: such an event is quarantined
        case when field_problem is null then {{ event_value_text() }} end as value_text,
        case when field_problem is null then
            coalesce(json_extract_string(properties, '$.operation_type'), 'add')
        end as operation_type,
        precise_total_amount_cents,
        case when properties_read then properties end as properties

    from checked

)

select * from valued
