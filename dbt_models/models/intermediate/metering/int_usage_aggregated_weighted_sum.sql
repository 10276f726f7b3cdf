-- weighted_sum_agg: the time-weighted value over the window (LAGO_RULES.md §3, getlago/lago-api
-- Postgres WeightedSumQuery). The running total starts at the window start at 0, or, for a
-- recurring metric, at the total of every earlier event (int_events_windowed.before_window:
-- the value Lago carries from period to period); each event of the window adds its (signed)
-- value at its timestamp; the integral of the running total over the window, in value x
-- seconds, is divided by the full charges period (period days x 86400 s), also when the
-- subscription started or ended inside it. The window ends at its last instant rounded up to
-- the whole second, as Lago's store does (`to_datetime.ceil`): a period ending 23:59:59.999999
-- is integrated to the next midnight, so a value held to the end counts whole days.
-- events_count counts the window's own events.
with

windows as (

    select * from {{ ref('int_charge_windows') }} where aggregation_type = 'weighted_sum_agg'

),

events as (

    select
        windows.window_id,
        events.pricing_id,
        events.group_key,
        events.event_at,
        events.landing_seq,
        events.value,
        events.before_window,
        windows.charges_from_datetime,
        -- the window end rounded up to the second (Lago: to_datetime.ceil)
        case
            when windows.charges_to_datetime = date_trunc('second', windows.charges_to_datetime)
                then windows.charges_to_datetime
            else date_trunc('second', windows.charges_to_datetime) + interval 1 second
        end as charges_to_datetime,
        windows.period_days

    from {{ ref('int_events_windowed') }} as events
    inner join windows using (window_key)

),

carried as (

    -- The value held at the window start (0 unless the metric is recurring).
    select
        window_id,
        pricing_id,
        group_key,
        any_value(period_days) as period_days,
        coalesce(sum(value) filter (where before_window), 0) as initial_value,
        any_value(charges_from_datetime) as charges_from_datetime,
        any_value(charges_to_datetime) as charges_to_datetime

    from events
    group by window_id, pricing_id, group_key

),

stretches as (

    select
        *,
        sum(value) over running as total_after,
        lead(event_at, 1, charges_to_datetime) over running_order as next_at

    from events
    where not before_window
    window
        running_order as (partition by window_id, pricing_id, group_key
                          order by event_at, landing_seq),
        running as (partition by window_id, pricing_id, group_key order by event_at, landing_seq
                    rows between unbounded preceding and current row)

),

in_window as (

    select
        window_id,
        pricing_id,
        group_key,
        -- value x microseconds held after each event of the window
        sum(total_after * (epoch_us(next_at) - epoch_us(event_at))) as value_microseconds,
        count(*) as events_count

    from stretches
    group by window_id, pricing_id, group_key

),

integrated as (

    select
        carried.window_id,
        carried.pricing_id,
        carried.group_key,
        carried.period_days,
        -- the initial value holds from the window start to the first event (or the end), and
        -- is part of every running total after it
        carried.initial_value
            * (epoch_us(carried.charges_to_datetime) - epoch_us(carried.charges_from_datetime))
            + coalesce(in_window.value_microseconds, 0) as value_microseconds,
        coalesce(in_window.events_count, 0) as events_count

    from carried
    left join in_window
        on carried.window_id = in_window.window_id
        and carried.pricing_id = in_window.pricing_id
        and carried.group_key is not distinct from in_window.group_key

)

select
    window_id,
    pricing_id,
    group_key,
    {{ divide('value_microseconds', 'cast(period_days as bigint) * 86400000000') }} as units,
    events_count

from integrated
