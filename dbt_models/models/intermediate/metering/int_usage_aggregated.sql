{{ config(materialized='table') }}

-- Usage per charge window, price and pricing group: the units each fee is priced on.
-- Every price of every charge due gets a row, with 0 units when nothing was used (a
-- graduated or volume price still bills its first tier's flat amount then). The metric's
-- rounding (round, ceil or floor at rounding_precision decimals) applies to the units of the
-- period (LAGO_RULES.md §3).
--
-- For a prorated charge on a recurring metric, `units` stay the full units (what the fee
-- shows, as Lago's full_units_number) and `prorated_units` (int_usage_prorated) are what the
-- price applies to; prorated_units is null for every other charge.
with

windows as (

    select * from {{ ref('int_charge_windows') }}

),

pricings as (

    select * from {{ ref('stg_catalog__charge_pricings') }}

),

aggregated as (

    select * from {{ ref('int_usage_aggregated_count') }}
    union all
    select * from {{ ref('int_usage_aggregated_sum') }}
    union all
    select * from {{ ref('int_usage_aggregated_max') }}
    union all
    select * from {{ ref('int_usage_aggregated_latest') }}
    union all
    select * from {{ ref('int_usage_aggregated_unique_count') }}
    union all
    select * from {{ ref('int_usage_aggregated_weighted_sum') }}
    union all
    select * from {{ ref('int_usage_aggregated_custom') }}

),

every_price as (

    -- Each price of each window, for the prices no event reached.
    select
        windows.window_id,
        pricings.pricing_id,
        cast(null as varchar) as group_key,
        cast(0 as decimal(38, 12)) as units,
        cast(0 as bigint) as events_count

    from windows
    inner join pricings using (charge_id)
    anti join aggregated
        on windows.window_id = aggregated.window_id
        and pricings.pricing_id = aggregated.pricing_id

),

usage as (

    select * from aggregated
    union all
    select * from every_price

),

prorated as (

    select * from {{ ref('int_usage_prorated') }}

),

rounded as (

    select
        usage.window_id,
        usage.pricing_id,
        usage.group_key,
        {{ round_units('usage.units', 'windows.rounding_function', 'windows.rounding_precision') }}
            as units,
        cast(usage.events_count as bigint) as events_count,
        case when windows.is_prorated then
            {{ round_units('coalesce(prorated.prorated_units, 0)', 'windows.rounding_function',
                           'windows.rounding_precision') }}
        end as prorated_units

    from usage
    inner join windows using (window_id)
    left join prorated
        on usage.window_id = prorated.window_id
        and usage.pricing_id = prorated.pricing_id
        and usage.group_key is not distinct from prorated.group_key

)

select * from rounded
