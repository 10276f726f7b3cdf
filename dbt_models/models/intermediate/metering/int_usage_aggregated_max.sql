-- max_agg: the highest value of the field in the window, not the last (LAGO_RULES.md §3).
select
    windows.window_id,
    events.pricing_id,
    events.group_key,
    cast(max(events.value) as decimal(38, 12)) as units,
    count(*) as events_count

from {{ ref('int_events_windowed') }} as events
inner join {{ ref('int_charge_windows') }} as windows using (window_key)
where windows.aggregation_type = 'max_agg'
group by windows.window_id, events.pricing_id, events.group_key
