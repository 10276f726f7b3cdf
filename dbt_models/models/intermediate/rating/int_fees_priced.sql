{{ config(materialized='table') }}

-- Every charge price applied: one row per charge window, price and pricing group, with its
-- amount in currency units (exact), then in minor units rounded half away from zero at the
-- currency's precision (LAGO_RULES.md §1: a fee is rounded once, on its own).
with

priced as (

    {% for model in ['standard', 'graduated', 'graduated_prorated', 'graduated_percentage',
                     'package', 'percentage', 'volume', 'dynamic'] -%}
    select * from {{ ref('int_fees_priced_' ~ model) }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

windows as (

    select * from {{ ref('int_charge_windows') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

in_minor_units as (

    select
        priced.window_id,
        priced.pricing_id,
        priced.group_key,
        priced.units,
        priced.events_count,
        priced.amount,
        {{ to_minor_units('priced.amount', 'currencies.subunit_to_unit') }} as amount_cents,
        {{ precise_minor_units('priced.amount', 'currencies.subunit_to_unit') }}
            as precise_amount_cents,
        currencies.subunit_to_unit

    from priced
    inner join windows using (window_id)
    inner join currencies using (currency)

)

select * from in_minor_units
