-- count_agg: the number of events in the window (LAGO_RULES.md §3).
select
    windows.window_id,
    events.pricing_id,
    events.group_key,
    cast(count(*) as decimal(38, 12)) as units,
    count(*) as events_count

from {{ ref('int_events_windowed') }} as events
inner join {{ ref('int_charge_windows') }} as windows using (window_key)
where windows.aggregation_type = 'count_agg'
group by windows.window_id, events.pricing_id, events.group_key
