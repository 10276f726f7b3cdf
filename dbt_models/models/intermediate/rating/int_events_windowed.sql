{{ config(materialized='view') }}

-- Billable events placed in the usage windows of the charges they are priced by: one row per
-- event per charge window per price (a filtered charge's price buckets,
-- int_charge_filter_conditions) and pricing group. An event that several charges of a plan
-- price appears once for each, as in Lago.
--
-- The window is named by its integer window_key (int_charge_windows), not its 32-character
-- window_id: the models after this one join int_charge_windows on the key for the id.
-- Each row carries only what the models after it read: transaction_id and properties for
-- custom_agg metrics only (their aggregator may read them; filters and pricing groups read
-- the properties here), value_text and operation_type for unique_count_agg and custom_agg
-- metrics only.
--
-- A view, not a table: each aggregator reads it for the windows of its own aggregation
-- type, and DuckDB places only those events (joining the few windows first). Writing a row
-- per event and window was the larger cost: on 10M events the view and the aggregation
-- together take ~3.5 s where the table took ~3.3 s to write and the aggregation ~1.2 s more.
--
-- A recurring metric's window (int_charge_windows.carries_over) also holds every earlier
-- event of the subscription's external id, flagged `before_window`: its usage is the state
-- at the window's end (LAGO_RULES.md §3). Events are never re-keyed to a plan, so the state
-- carries over plan changes too, as in Lago.
with

windows as (

    select * from {{ ref('int_charge_windows') }}

),

-- Only the events that can still be priced: those in the span of the windows present (from
-- the earliest start to the latest end, as constants, so DuckDB skips the row groups of older
-- events by their event_at min/max), plus every earlier event of the metrics of windows that
-- carry over (recurring metrics reach back to the subscription's first event). The windows
-- present decide it, not the calendar: a window of a finalized period (re-rating) widens it.
--
-- Not materialized: in_window reads it twice (unfiltered and filtered charges), and DuckDB
-- would otherwise hold a copy of every billable event in memory first (~1 s on 10M events);
-- the filtered charges' read is skipped when there are none (see in_window).
{%- set bounds = open_window_bounds() %}
events as not materialized (

    {% if bounds['from'] is none -%}
    select * from {{ ref('int_events_billable') }} where false
    {%- else -%}
    select * from {{ ref('int_events_billable') }}
    where event_at >= timestamptz '{{ bounds["from"] }}'
        and event_at <= timestamptz '{{ bounds["to"] }}'
    {%- if bounds['carried'] %}

    union all

    select * from {{ ref('int_events_billable') }}
    where event_at < timestamptz '{{ bounds["from"] }}'
        and billable_metric_code in (
            {%- for code in bounds['carried'] %}'{{ code | replace("'", "''") }}'
            {%- if not loop.last %}, {% endif %}{% endfor %})
    {%- endif %}
    {%- endif %}

),

pricings as (

    select * from {{ ref('stg_catalog__charge_pricings') }}

),

conditions as (

    select * from {{ ref('int_charge_filter_conditions') }}

),

-- Not materialized: each use below reads it with its own filter on has_filters, which
-- reaches the windows side of the join; the filtered charges' part is then empty, and free,
-- when the catalog has no filters, instead of a copy of every event placed in a window.
in_window as not materialized (

    select
        windows.window_key,
        windows.charge_id,
        windows.has_filters,
        windows.aggregation_type,
        events.landing_seq,
        events.transaction_id,
        events.event_at,
        events.value,
        events.value_text,
        events.operation_type,
        events.precise_total_amount_cents,
        events.properties,
        events.event_at < windows.charges_from_datetime as before_window

    from events
    inner join windows
        on events.external_subscription_id = windows.external_subscription_id
        and events.billable_metric_code = windows.billable_metric_code
        and (events.event_at >= windows.charges_from_datetime or windows.carries_over)
        and events.event_at <= windows.charges_to_datetime

),

unfiltered as (

    select in_window.*, in_window.charge_id as pricing_id
    from in_window
    where not in_window.has_filters

),

-- the events in the windows of filtered charges: their conditions, then their buckets
in_filtered_window as (

    select * from in_window where in_window.has_filters

),

condition_results as (

    select
        in_filtered_window.window_key,
        in_filtered_window.landing_seq,
        conditions.pricing_id,
        conditions.condition_role,
        conditions.condition_id,
        bool_and(coalesce(list_contains(
            conditions.filter_values,
            json_extract_string(in_filtered_window.properties,
                                '$."' || conditions.filter_key || '"')
        ), false)) as holds

    from in_filtered_window
    inner join conditions on in_filtered_window.charge_id = conditions.charge_id
    group by all

),

buckets as (

    select
        window_key,
        landing_seq,
        pricing_id

    from condition_results
    group by window_key, landing_seq, pricing_id
    having coalesce(bool_or(holds) filter (where condition_role = 'match'), true)
        and not coalesce(bool_or(holds) filter (where condition_role = 'exclude'), false)

),

filtered as (

    select in_filtered_window.*, buckets.pricing_id
    from in_filtered_window
    inner join buckets using (window_key, landing_seq)

),

bucketed as (

    select * from unfiltered
    union all by name
    select * from filtered

),

grouped as (

    select
        bucketed.window_key,
        bucketed.pricing_id,
        {{ group_key('pricings.pricing_group_keys', 'bucketed.properties') }} as group_key,
        bucketed.landing_seq,
        -- read after this by custom aggregators only: other rows do not carry the text
        case when bucketed.aggregation_type = 'custom_agg' then bucketed.transaction_id end
            as transaction_id,
        bucketed.event_at,
        bucketed.value,
        -- read after this by unique counts (and custom aggregators) only
        case when bucketed.aggregation_type in ('unique_count_agg', 'custom_agg')
            then bucketed.value_text end as value_text,
        case when bucketed.aggregation_type in ('unique_count_agg', 'custom_agg')
            then bucketed.operation_type end as operation_type,
        bucketed.precise_total_amount_cents,
        case when bucketed.aggregation_type = 'custom_agg' then bucketed.properties end
            as properties,
        bucketed.before_window

    from bucketed
    inner join pricings using (pricing_id)

)

select * from grouped
