-- standard: units x unit price (LAGO_RULES.md §5). A prorated charge prices its prorated
-- units (int_usage_aggregated.prorated_units) and shows its full units.
with

usage as (

    select * from {{ ref('int_usage_aggregated') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }} where charge_model = 'standard'

),

pricings as (

    select * from {{ ref('stg_catalog__charge_pricings') }}

)

select
    usage.window_id,
    usage.pricing_id,
    usage.group_key,
    usage.units,
    usage.events_count,
    cast(coalesce(usage.prorated_units, usage.units) * pricings.amount as decimal(38, 12)) as amount

from usage
inner join windows using (window_id)
inner join pricings using (pricing_id)
