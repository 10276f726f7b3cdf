-- Prorated units of the prorated charges on recurring metrics (int_charge_windows.is_prorated):
-- each unit weighs the local days it existed in the window over the days of the full period
-- (LAGO_RULES.md §3; getlago/lago-api ProratedAggregations::SumService and UniqueCountService,
-- Postgres store prorated_sum and UniqueCountQuery#prorated_query). One row per charge
-- window, price and pricing group that has events; the total is rounded up to 5 decimals, as
-- Lago does before pricing. Weights are exact: Lago divides the carried value's weight in
-- floating point, which can differ in the 16th digit (docs/billing-rules.md).
--
-- sum_agg: the value carried into the window (every earlier event) weighs billed days /
--   period days (the whole period unless the subscription started or ended inside it); an
--   event of the window weighs (local date of the window end - local date of the event + 1)
--   / period days, so a negative value (a removal) gives back the days left.
-- unique_count_agg: a value weighs the number of local days of the window on which it was
--   present at some moment (its add day and its remove day both count, a remove and re-add
--   on one day is one day) / period days. Repeated operations are ignored, as in the
--   unprorated count.
with

windows as (

    select * from {{ ref('int_charge_windows') }} where is_prorated

),

events as (

    select
        events.*,
        windows.aggregation_type,
        windows.charges_from_datetime,
        windows.charges_to_datetime,
        windows.timezone,
        windows.period_days,
        windows.billed_days

    from {{ ref('int_events_windowed') }} as events
    inner join windows using (window_id)

),

-- sum_agg ---------------------------------------------------------------------------------

sum_day_weighted as (

    -- Σ value x days it is billed for, exact; divided once by the period's days below.
    select
        window_id,
        pricing_id,
        group_key,
        any_value(period_days) as period_days,
        sum(value * case
            when before_window then billed_days
            else date_diff('day', {{ local_date('event_at', 'timezone') }},
                           {{ local_date('charges_to_datetime', 'timezone') }}) + 1
        end) as unit_days

    from events
    where aggregation_type = 'sum_agg'
    group by window_id, pricing_id, group_key

),

-- unique_count_agg ------------------------------------------------------------------------

operations as (

    select
        *,
        -- an operation repeating the value's previous one changes nothing; a first remove
        -- removes nothing
        operation_type <> coalesce(lag(operation_type) over value_order, 'remove') as effective

    from events
    where aggregation_type = 'unique_count_agg'
    window value_order as (partition by window_id, pricing_id, group_key, value_text
                           order by event_at, landing_seq)

),

presences as (

    -- One row per add, up to the value's next (remove) operation, or open.
    select
        *,
        lead(event_at) over value_order as removed_at

    from operations
    where effective
    window value_order as (partition by window_id, pricing_id, group_key, value_text
                           order by event_at, landing_seq)

),

presence_days as (

    -- The local days of the window each presence covers, both ends included.
    select
        window_id,
        pricing_id,
        group_key,
        value_text,
        period_days,
        event_at,
        landing_seq,
        {{ local_date('greatest(event_at, charges_from_datetime)', 'timezone') }} as first_day,
        {{ local_date('coalesce(removed_at, charges_to_datetime)', 'timezone') }} as last_day

    from presences
    where operation_type = 'add'
        and (removed_at is null or removed_at >= charges_from_datetime)

),

value_days as (

    -- Days present: a day shared with the value's previous presence (removed and added
    -- again on one day) counts once.
    select
        window_id,
        pricing_id,
        group_key,
        any_value(period_days) as period_days,
        sum(date_diff('day', first_day, last_day) + 1
            - greatest(coalesce(date_diff('day', first_day, previous_last_day) + 1, 0), 0))
            as unit_days

    from (
        select
            *,
            lag(last_day) over (partition by window_id, pricing_id, group_key, value_text
                                order by event_at, landing_seq) as previous_last_day
        from presence_days
    )
    group by window_id, pricing_id, group_key

),

unit_days as (

    select window_id, pricing_id, group_key, period_days, cast(unit_days as decimal(38, 12))
        as unit_days
    from sum_day_weighted
    union all
    select window_id, pricing_id, group_key, period_days, cast(unit_days as decimal(38, 12))
    from value_days

),

scaled as (

    -- unit_days / period_days rounded up to 5 decimals, in integers: unit_days has at most
    -- 12 decimals, so unit_days x 10^12 is whole, and ceil(n / d) = (n + d - 1) // d.
    select
        window_id,
        pricing_id,
        group_key,
        cast(unit_days * 1000000000000 as hugeint) as numerator,
        cast(period_days as hugeint) * 10000000 as denominator

    from unit_days

)

select
    window_id,
    pricing_id,
    group_key,
    cast(cast(case
        when numerator >= 0 then (numerator + denominator - 1) // denominator
        else -((-numerator) // denominator)
    end as decimal(38, 0)) * cast(0.00001 as decimal(6, 5)) as decimal(38, 12)) as prorated_units

from scaled
