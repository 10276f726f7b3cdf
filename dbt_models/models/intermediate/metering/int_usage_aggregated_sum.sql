-- sum_agg: the sum of the field over the window; negative values count (LAGO_RULES.md §3).
-- A recurring metric's window holds every event since the subscription's first
-- (int_events_windowed.before_window), so its units are the running total at the window's
-- end and its events_count counts them all, as Lago's recurring sum does.
select
    windows.window_id,
    events.pricing_id,
    events.group_key,
    cast(sum(events.value) as decimal(38, 12)) as units,
    count(*) as events_count

from {{ ref('int_events_windowed') }} as events
inner join {{ ref('int_charge_windows') }} as windows using (window_key)
where windows.aggregation_type = 'sum_agg'
group by windows.window_id, events.pricing_id, events.group_key
