-- Prorated units of the prorated charges on recurring metrics (int_charge_windows.is_prorated):
-- each unit weighs the local days it existed in the window over the days of the full period
-- (LAGO_RULES.md §3; getlago/lago-api ProratedAggregations::SumService and UniqueCountService,
-- Postgres store prorated_sum and UniqueCountQuery#prorated_query). One row per charge
-- window, price and pricing group that has events; the total is rounded up to 5 decimals, as
-- Lago does before pricing. Weights are exact: Lago divides the carried value's weight in
-- floating point, which can differ in the 16th digit (docs/billing-rules.md).
--
-- The weights, event by event, are int_usage_prorated_events' (sum_agg: the carried value
-- weighs billed days, an event of the window its day to the window's last day; a unique
-- value: the days it was present): this model adds them up.
with

unit_days as (

    select
        window_id,
        pricing_id,
        group_key,
        any_value(period_days) as period_days,
        sum(unit_days) as unit_days

    from {{ ref('int_usage_prorated_events') }}
    group by window_id, pricing_id, group_key

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
