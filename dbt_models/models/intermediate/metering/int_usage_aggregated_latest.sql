-- latest_agg: the value of the latest event (by timestamp, then landing order); a negative
-- latest value bills 0 (LAGO_RULES.md §3).
select
    windows.window_id,
    events.pricing_id,
    events.group_key,
    cast(greatest(arg_max(events.value, (events.event_at, events.landing_seq)), 0)
        as decimal(38, 12)) as units,
    count(*) as events_count

from {{ ref('int_events_windowed') }} as events
inner join {{ ref('int_charge_windows') }} as windows using (window_key)
where windows.aggregation_type = 'latest_agg'
group by windows.window_id, events.pricing_id, events.group_key
