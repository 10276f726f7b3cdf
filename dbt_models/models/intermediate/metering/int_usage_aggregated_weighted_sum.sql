-- weighted_sum_agg: the time-weighted value over the window (LAGO_RULES.md §3, getlago/lago-api
-- Postgres WeightedSumQuery). The running total starts at 0 at the window start; each event
-- adds its (signed) value at its timestamp; the integral of the running total over the
-- window, in value x seconds, is divided by the full charges period (period days x 86400 s),
-- also when the subscription started or ended inside it. Durations are counted in
-- microseconds up to the window end (23:59:59.999999), as Lago does.
with

windows as (

    select * from {{ ref('int_charge_windows') }} where aggregation_type = 'weighted_sum_agg'

),

events as (

    select
        events.window_id,
        events.pricing_id,
        events.group_key,
        events.event_at,
        events.landing_seq,
        events.value,
        windows.charges_from_datetime,
        windows.charges_to_datetime,
        windows.period_days

    from {{ ref('int_events_windowed') }} as events
    inner join windows using (window_id)

),

stretches as (

    select
        *,
        sum(value) over running as total_after,
        lead(event_at, 1, charges_to_datetime) over running_order as next_at,
        row_number() over running_order as position

    from events
    window
        running_order as (partition by window_id, pricing_id, group_key
                          order by event_at, landing_seq),
        running as (partition by window_id, pricing_id, group_key order by event_at, landing_seq
                    rows between unbounded preceding and current row)

),

integrated as (

    select
        window_id,
        pricing_id,
        group_key,
        any_value(period_days) as period_days,
        -- value x microseconds held after each event; the initial value (0) before the first
        -- event contributes nothing.
        sum(total_after * (epoch_us(next_at) - epoch_us(event_at))) as value_microseconds,
        count(*) as events_count

    from stretches
    group by window_id, pricing_id, group_key

)

select
    window_id,
    pricing_id,
    group_key,
    {{ divide('value_microseconds', 'cast(period_days as bigint) * 86400000000') }} as units,
    events_count

from integrated
