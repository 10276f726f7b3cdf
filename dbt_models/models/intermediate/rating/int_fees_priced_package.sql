-- package: the units beyond the free units, billed by whole packages started:
-- ceil((units - free_units) / package_size) x package price; nothing within the free units
-- (LAGO_RULES.md §5).
with

usage as (

    select * from {{ ref('int_usage_aggregated') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }} where charge_model = 'package'

),

pricings as (

    select * from {{ ref('stg_catalog__charge_pricings') }}

),

paid as (

    select
        usage.*,
        usage.units - pricings.free_units as paid_units,
        pricings.package_size,
        pricings.amount as package_amount

    from usage
    inner join windows using (window_id)
    inner join pricings using (pricing_id)

)

select
    window_id,
    pricing_id,
    group_key,
    units,
    events_count,
    cast(case
        when paid_units <= 0 then 0
        else ceil({{ divide('paid_units', 'package_size') }}) * package_amount
    end as decimal(38, 12)) as amount

from paid
