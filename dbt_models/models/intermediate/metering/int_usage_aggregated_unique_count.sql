-- unique_count_agg: the number of distinct field values present at the end of the window.
-- Each event adds its value, or removes it with properties.operation_type = 'remove'; an
-- operation repeating the value's previous one changes nothing, so a value is present when
-- its last operation is an add (getlago/lago-api Postgres UniqueCountQuery).
-- A recurring metric's window holds every event since the subscription's first
-- (int_events_windowed.before_window): the values still present at the window's end count,
-- whenever they were added.
with

events as (

    select windows.window_id, events.* exclude (window_key)
    from {{ ref('int_events_windowed') }} as events
    inner join {{ ref('int_charge_windows') }} as windows using (window_key)
    where windows.aggregation_type = 'unique_count_agg'

),

per_value as (

    select
        window_id,
        pricing_id,
        group_key,
        value_text,
        count(*) as events_count,
        arg_max(operation_type, (event_at, landing_seq)) = 'add' as present

    from events
    group by window_id, pricing_id, group_key, value_text

)

select
    window_id,
    pricing_id,
    group_key,
    cast(count(*) filter (where present) as decimal(38, 12)) as units,
    cast(sum(events_count) as bigint) as events_count

from per_value
group by window_id, pricing_id, group_key
