-- graduated_percentage: tiers on the amount: each tier's units at that tier's rate (%), plus
-- the flat amount of every tier reached ("+1" ranges only) (LAGO_RULES.md §5;
-- getlago/lago-api ChargeModels::GraduatedPercentageService).
with

usage as (

    select * from {{ ref('int_usage_aggregated') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }} where charge_model = 'graduated_percentage'

),

tiers as (

    select * from {{ ref('stg_catalog__charge_tiers') }}
    where tier_kind = 'graduated_percentage'

),

priced_tiers as (

    select
        usage.window_id,
        usage.pricing_id,
        usage.group_key,
        usage.units,
        usage.events_count,
        tiers.position,
        count(*) filter (where tiers.to_value is not null and tiers.to_value < usage.units)
            over (partition by usage.window_id, usage.pricing_id, usage.group_key
                  order by tiers.position rows between unbounded preceding and 1 preceding)
            as tiers_passed,
        {{ tier_units('usage.units', 'tiers.from_value', 'tiers.to_value', 'false') }}
            as tier_units,
        tiers.rate,
        tiers.flat_amount

    from usage
    inner join windows using (window_id)
    inner join tiers using (pricing_id)

)

select
    window_id,
    pricing_id,
    group_key,
    any_value(units) as units,
    any_value(events_count) as events_count,
    cast(sum(tier_units * rate * cast(0.01 as decimal(3, 2)) + flat_amount)
        filter (where coalesce(tiers_passed, 0) = position) as decimal(38, 12)) as amount

from priced_tiers
group by window_id, pricing_id, group_key
