{{ config(materialized='table') }}

-- Every landed event that will not be billed, with why: later copies of an event already
-- landed (duplicates, or conflicting duplicates when their content differs) and events that
-- cannot be billed (quarantined). Every other landed event is billable
-- (int_events_billable); nothing is dropped in silence.
--
-- An event is identified by (external_subscription_id, transaction_id) and the first copy
-- landed wins, as in Lago (LAGO_RULES.md §2). Events whose fields cannot be read are
-- quarantined before deduplication, so a later readable copy of them is billed.
with

-- each event's fields checked and its value read (int_events_checked), once: materialized,
-- as the field problems, the copies and the billing checks below all read it
checked as materialized (

    select * from {{ ref('int_events_checked') }}

),

-- the raw fields the detail quotes, read for the rejected events only
events as (

    select * from {{ ref('stg_usage__events') }}

),

phases as (

    select * from {{ ref('int_subscription_phases') }}

),

subscriptions as (

    select distinct external_subscription_id from phases

),

-- Each phase until the next one of its subscription starts: the phase in force at an instant
-- is the latest started at or before it. An equi-join on the subscription with this range is
-- one hash join (an ASOF join on the same was 2-3x slower on 10M events).
phase_spans as (

    select
        *,
        lead(phase_started_at) over (
            partition by external_subscription_id order by phase_started_at, phase_index
        ) as next_phase_started_at

    from phases

),

metrics as (

    select * from {{ ref('stg_catalog__billable_metrics') }}

),

charged_metrics as (

    select distinct plan_code, billable_metric_code
    from {{ ref('stg_catalog__charges') }}

),

readable as not materialized (

    select * from checked where field_problem is null

),

copies as (

    select
        external_subscription_id,
        transaction_id,
        min(landing_seq) as first_landing_seq,
        arg_min(payload_hash, landing_seq) as first_payload_hash

    from readable
    group by external_subscription_id, transaction_id
    having count(*) > 1

),

later_copies as (

    select
        readable.landing_seq,
        copies.first_landing_seq,
        readable.payload_hash = copies.first_payload_hash as same_as_first

    from readable
    inner join copies using (external_subscription_id, transaction_id)
    where readable.landing_seq <> copies.first_landing_seq

),

valued as (

    select
        readable.landing_seq,
        readable.code,
        readable.field_name,
        readable.value_text,
        subscriptions.external_subscription_id is not null as known_subscription,
        metrics.billable_metric_code is not null as known_metric,
        metrics.needs_numeric_field,
        metrics.aggregation_type,
        -- The plan in force when the event happened: the latest phase started at or before
        -- it, unless that phase had ended.
        case
            when phase_spans.phase_ended_at is null
                or readable.event_at <= phase_spans.phase_ended_at
                then phase_spans.plan_code
        end as plan_code

    from readable
    left join subscriptions using (external_subscription_id)
    left join metrics on readable.code = metrics.billable_metric_code
    left join phase_spans
        on readable.external_subscription_id = phase_spans.external_subscription_id
        and readable.event_at >= phase_spans.phase_started_at
        and (phase_spans.next_phase_started_at is null
            or readable.event_at < phase_spans.next_phase_started_at)

),

charged_checked as (

    select
        valued.*,
        charged_metrics.billable_metric_code is not null as charged

    from valued
    left join charged_metrics
        on valued.plan_code = charged_metrics.plan_code
        and valued.code = charged_metrics.billable_metric_code

),

billing_checked as (

    select
        *,
        case
            when not known_subscription then 'unknown_subscription'
            when not known_metric then 'unknown_metric'
            when plan_code is null then 'outside_subscription'
            when not charged then 'metric_not_in_plan'
            when needs_numeric_field and value_text is null then 'missing_field'
            when needs_numeric_field and not {{ is_numeric_text('value_text') }}
                then 'invalid_field_value'
            when aggregation_type = 'unique_count_agg' and value_text is null
                then 'missing_field'
        end as billing_problem

    from charged_checked

),

rejected as (

    select
        checked.landing_seq,
        'quarantined' as outcome,
        checked.field_problem as reason,
        cast(null as bigint) as duplicate_of_landing_seq,
        cast(null as varchar) as plan_code,
        cast(null as varchar) as field_name,
        cast(null as varchar) as value_text

    from checked
    where checked.field_problem is not null

    union all

    select
        landing_seq,
        case when same_as_first then 'duplicate' else 'quarantined' end as outcome,
        case when same_as_first then 'duplicate' else 'conflicting_duplicate' end as reason,
        first_landing_seq as duplicate_of_landing_seq,
        cast(null as varchar) as plan_code,
        cast(null as varchar) as field_name,
        cast(null as varchar) as value_text

    from later_copies

    union all

    select
        billing_checked.landing_seq,
        'quarantined' as outcome,
        billing_checked.billing_problem as reason,
        cast(null as bigint) as duplicate_of_landing_seq,
        -- what the detail below quotes, carried here so it needs no second pass over events
        billing_checked.plan_code,
        billing_checked.field_name,
        billing_checked.value_text

    from billing_checked
    anti join later_copies using (landing_seq)
    where billing_checked.billing_problem is not null

),

described as (

    select
        rejected.landing_seq,
        rejected.outcome,
        rejected.reason,
        case rejected.reason
            when 'missing_transaction_id' then 'transaction_id is empty'
            when 'missing_external_subscription_id' then 'external_subscription_id is empty'
            when 'missing_code' then 'code is empty'
            when 'unreadable_timestamp'
                then 'timestamp ' || coalesce('''' || events.timestamp_raw || '''', 'is empty')
                    || ' is not an instant (ISO 8601 or epoch seconds)'
            when 'invalid_properties' then 'properties is not a JSON object'
            when 'duplicate' then 'same event as landing_seq ' || rejected.duplicate_of_landing_seq
            when 'conflicting_duplicate'
                then 'same transaction_id as landing_seq ' || rejected.duplicate_of_landing_seq
                    || ' with a different payload; the first copy landed is billed'
            when 'unknown_subscription'
                then 'no subscription ' || events.external_subscription_id || ' in the catalog'
            when 'unknown_metric' then 'no billable metric ' || events.code || ' in the catalog'
            when 'outside_subscription'
                then 'the subscription is not active at ' || cast(events.event_at as varchar)
            when 'metric_not_in_plan'
                then 'plan ' || rejected.plan_code || ' has no charge on ' || events.code
            when 'missing_field'
                then 'property ' || coalesce(rejected.field_name, '?') || ' is missing'
            when 'invalid_field_value'
                then 'property ' || rejected.field_name || ' is '''
                    || rejected.value_text || ''', not a number'
        end as detail,
        rejected.duplicate_of_landing_seq,
        events.transaction_id,
        events.external_subscription_id,
        events.code,
        events.event_at,
        events.timestamp_raw,
        events.properties_raw,
        events.file_index,
        events.file_row_number

    from rejected
    inner join events using (landing_seq)

)

select * from described
order by landing_seq
