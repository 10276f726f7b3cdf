{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='landing_seq',
    on_schema_change='sync_all_columns'
) }}

{#-
  Incremental by landing order: a close meters only the rows landed since the last one
  (landing_seq above what this table holds), checks their copies against the first copies
  earlier closes kept, and appends them (delete+insert on landing_seq: a re-run after an
  interrupted close replaces, never doubles). When what an outcome reads of the catalog
  changed (metering_catalog_version), every landed row is metered again; so the table is
  always what a full build from landing.events under the current catalog gives.
-#}
-- depends_on: {{ ref('stg_catalog__charge_pricings') }}
{% set catalog_version = metering_catalog_version() -%}
{% set after_seq = metered_through_seq(catalog_version) %}

-- Every landed event with its outcome: 'billable', 'duplicate' (a later identical copy of an
-- event already landed) or 'quarantined' (it cannot be billed, with a reason and a sentence).
-- int_events_billable and int_events_rejected read it; nothing is dropped in silence.
--
-- An event is identified by (external_subscription_id, transaction_id) and the first copy
-- landed wins, as in Lago (LAGO_RULES.md §2): a later copy with the same payload is a
-- duplicate, one with another payload is quarantined as a conflicting duplicate. Events whose
-- fields cannot be read are quarantined before deduplication, so a later readable copy of
-- them is billed.
with

-- the rows landed since the last close, their fields checked and their value read
-- (int_events_checked), once: materialized, as the copies and the billing checks read it
checked as materialized (

    select * from {{ ref('int_events_checked') }}
    where landing_seq > {{ after_seq }}

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

-- the new readable rows and, for their events, the first copies earlier closes kept
keyed as (

    select external_subscription_id, transaction_id, landing_seq, payload_hash
    from readable

    {% if after_seq >= 0 %}
    union all

    select earlier.external_subscription_id, earlier.transaction_id, earlier.landing_seq,
        earlier.first_copy_hash
    from {{ this }} as earlier
    semi join readable using (external_subscription_id, transaction_id)
    where earlier.first_copy_hash is not null
    {% endif %}

),

-- The keys landed more than once, found in two steps: first on a 64-bit hash of the key (one
-- integer per row to group: on 10M events about half the time of grouping the two texts),
-- then exactly, on the few rows whose hash repeats. A hash collision only adds candidates
-- the exact step then drops.
repeated_key_hashes as (

    select hash(external_subscription_id, transaction_id) as key_hash
    from keyed
    group by 1
    having count(*) > 1

),

copies as (

    select
        external_subscription_id,
        transaction_id,
        min(landing_seq) as first_landing_seq,
        arg_min(payload_hash, landing_seq) as first_payload_hash

    from keyed
    where hash(external_subscription_id, transaction_id) in (
        select key_hash from repeated_key_hashes)
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
        readable.*,
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

decided as (

    -- a later copy is a duplicate (or a conflicting one) whatever else is wrong with it
    select
        billing_checked.landing_seq,
        case
            when later_copies.same_as_first then 'duplicate'
            when later_copies.landing_seq is not null or billing_problem is not null
                then 'quarantined'
            else 'billable'
        end as outcome,
        case
            when later_copies.same_as_first then 'duplicate'
            when later_copies.landing_seq is not null then 'conflicting_duplicate'
            else billing_problem
        end as reason,
        later_copies.first_landing_seq as duplicate_of_landing_seq,
        billing_checked.transaction_id,
        billing_checked.external_subscription_id,
        billing_checked.code,
        billing_checked.event_at,
        billing_checked.plan_code,
        billing_checked.field_name,
        billing_checked.value_text,
        billing_checked.operation_type,
        billing_checked.precise_total_amount_cents,
        billing_checked.properties,
        cast(null as varchar) as timestamp_raw,
        -- a first copy: what later copies of this event are compared with
        case when later_copies.landing_seq is null then billing_checked.payload_hash end
            as first_copy_hash

    from billing_checked
    left join later_copies using (landing_seq)

    union all

    select
        landing_seq,
        'quarantined' as outcome,
        field_problem as reason,
        cast(null as bigint) as duplicate_of_landing_seq,
        transaction_id,
        external_subscription_id,
        code,
        event_at,
        cast(null as varchar) as plan_code,
        cast(null as varchar) as field_name,
        cast(null as varchar) as value_text,
        cast(null as varchar) as operation_type,
        cast(null as decimal(38, 12)) as precise_total_amount_cents,
        cast(null as json) as properties,
        unreadable_timestamp as timestamp_raw,
        cast(null as ubigint) as first_copy_hash

    from checked
    where field_problem is not null

),

described as (

    select
        decided.landing_seq,
        -- null for a billable event (its outcome); int_events_rejected names the others'
        decided.reason,
        case decided.reason
            when 'missing_transaction_id' then 'transaction_id is empty'
            when 'missing_external_subscription_id' then 'external_subscription_id is empty'
            when 'missing_code' then 'code is empty'
            when 'unreadable_timestamp'
                then 'timestamp ' || coalesce('''' || decided.timestamp_raw || '''', 'is empty')
                    || ' is not an instant (ISO 8601 or epoch seconds)'
            when 'invalid_properties' then 'properties is not a JSON object'
            when 'duplicate' then 'same event as landing_seq ' || decided.duplicate_of_landing_seq
            when 'conflicting_duplicate'
                then 'same transaction_id as landing_seq ' || decided.duplicate_of_landing_seq
                    || ' with a different payload; the first copy landed is billed'
            when 'unknown_subscription'
                then 'no subscription ' || decided.external_subscription_id || ' in the catalog'
            when 'unknown_metric' then 'no billable metric ' || decided.code || ' in the catalog'
            when 'outside_subscription'
                then 'the subscription is not active at ' || cast(decided.event_at as varchar)
            when 'metric_not_in_plan'
                then 'plan ' || decided.plan_code || ' has no charge on ' || decided.code
            when 'missing_field'
                then 'property ' || coalesce(decided.field_name, '?') || ' is missing'
            when 'invalid_field_value'
                then 'property ' || decided.field_name || ' is '''
                    || decided.value_text || ''', not a number'
        end as detail,
        decided.duplicate_of_landing_seq,
        decided.transaction_id,
        decided.external_subscription_id,
        decided.code,
        decided.event_at,
        -- what the billed events' metering reads; null for rejected events
        case when decided.outcome = 'billable' then decided.value_text end as value_text,
        -- null for 'add', the default (and for rejected events): most events write nothing
        case when decided.outcome = 'billable' then nullif(decided.operation_type, 'add') end
            as operation_type,
        case when decided.outcome = 'billable' then decided.precise_total_amount_cents end
            as precise_total_amount_cents,
        case when decided.outcome = 'billable' then decided.properties end as properties,
        decided.first_copy_hash,
        cast({{ catalog_version }} as ubigint) as metered_under,
        -- the batch: the close that metered this row took the rows landed after this seq
        -- (-1: every landed row); tests read it to see a daily close meters only its day
        cast({{ after_seq }} as bigint) as metered_after_seq

    from decided

)

select * from described
