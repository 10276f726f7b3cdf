-- graduated: each tier's units at that tier's unit price, plus the flat amount of every tier
-- reached (LAGO_RULES.md §5; getlago/lago-api ChargeModels::GraduatedService). With no usage
-- the first tier's flat amount is billed. A prorated graduated charge is priced event by event
-- in int_fees_priced_graduated_prorated.
with

usage as (

    select * from {{ ref('int_usage_aggregated') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }}
    where charge_model = 'graduated' and not is_prorated

),

tiers as (

    select * from {{ ref('stg_catalog__charge_tiers') }} where tier_kind = 'graduated'

),

conventions as (

    -- Adjacent ranges: every tier starts where the previous one ends (at least two tiers).
    select
        pricing_id,
        count(*) >= 2 and coalesce(bool_and(from_value = previous_to)
            filter (where position > 0), false) as adjacent

    from (
        select
            *,
            coalesce(lag(to_value) over (partition by pricing_id order by position), 0)
                as previous_to
        from tiers
    )
    group by pricing_id

),

priced_tiers as (

    select
        usage.window_id,
        usage.pricing_id,
        usage.group_key,
        usage.units,
        usage.events_count,
        tiers.position,
        -- tiers below this one that end before the total: all of them, for a reached tier
        count(*) filter (where tiers.to_value is not null and tiers.to_value < usage.units)
            over (partition by usage.window_id, usage.pricing_id, usage.group_key
                  order by tiers.position rows between unbounded preceding and 1 preceding)
            as tiers_passed,
        {{ tier_units('usage.units', 'tiers.from_value', 'tiers.to_value', 'conventions.adjacent') }}
            as tier_units,
        tiers.per_unit_amount,
        tiers.flat_amount

    from usage
    inner join windows using (window_id)
    inner join tiers using (pricing_id)
    inner join conventions using (pricing_id)

)

select
    window_id,
    pricing_id,
    group_key,
    any_value(units) as units,
    any_value(events_count) as events_count,
    cast(sum(case when tier_units = 0 then 0 else tier_units * per_unit_amount end + flat_amount)
        filter (where coalesce(tiers_passed, 0) = position) as decimal(38, 12)) as amount

from priced_tiers
group by window_id, pricing_id, group_key
