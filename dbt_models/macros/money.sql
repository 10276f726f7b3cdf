{#
  Money rounding, the one rule (LAGO_RULES.md §1).

  to_minor_units(amount, subunit_to_unit): an amount in currency units (DECIMAL) to an integer
    number of minor units, rounded half away from zero (Lago's HALF_UP) at the currency's
    precision. For EUR (100) 12.345 -> 1235; for JPY (1) 12.5 -> 13; for KWD (1000) 0.0005 -> 1.

  precise_minor_units(amount, subunit_to_unit): the same amount in minor units, unrounded,
    kept to 5 decimals as Lago's precise_* columns are.
#}
{% macro to_minor_units(amount, subunit_to_unit) -%}
    cast(round(cast({{ amount }} as decimal(38, 12)) * {{ subunit_to_unit }}, 0) as bigint)
{%- endmacro %}

{% macro precise_minor_units(amount, subunit_to_unit) -%}
    cast(round(cast({{ amount }} as decimal(38, 12)) * {{ subunit_to_unit }}, 5) as decimal(38, 5))
{%- endmacro %}

{#
  divide(n, d): exact decimal division (12 decimals, half away from zero); see billing_functions.
#}
{% macro divide(n, d) -%}
    billing_divide({{ n }}, {{ d }})
{%- endmacro %}
