-- volume: every unit at the price of the one tier the total falls in, plus that tier's flat
-- amount: the first tier (by from_value) with from_value <= ceil(units) and units <= to_value
-- (LAGO_RULES.md §5; getlago/lago-api ChargeModels::VolumeService). No usage falls in the
-- first tier, whose flat amount is billed. A prorated charge finds its tier by its full units
-- and prices its prorated units (int_usage_aggregated.prorated_units) at that tier's price,
-- plus the tier's whole flat amount (getlago/lago-api ChargeModels::VolumeService).
with

usage as (

    select * from {{ ref('int_usage_aggregated') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }} where charge_model = 'volume'

),

tiers as (

    select * from {{ ref('stg_catalog__charge_tiers') }} where tier_kind = 'volume'

),

matched as (

    select
        usage.window_id,
        usage.pricing_id,
        usage.group_key,
        usage.units,
        usage.prorated_units,
        usage.events_count,
        arg_min(tiers.per_unit_amount, tiers.from_value) as per_unit_amount,
        arg_min(tiers.flat_amount, tiers.from_value) as flat_amount

    from usage
    inner join windows using (window_id)
    inner join tiers
        on usage.pricing_id = tiers.pricing_id
        and tiers.from_value <= ceil(usage.units)
        and (tiers.to_value is null or usage.units <= tiers.to_value)
    group by usage.window_id, usage.pricing_id, usage.group_key, usage.units, usage.prorated_units,
        usage.events_count

)

select
    window_id,
    pricing_id,
    group_key,
    units,
    events_count,
    cast(coalesce(prorated_units, units) * per_unit_amount + flat_amount as decimal(38, 12))
        as amount

from matched
