{#
  round_units(units, rounding_function, rounding_precision): a billable metric's rounding of
  the aggregated units (LAGO_RULES.md §3): 'round' (half away from zero), 'ceil' or 'floor'
  at `rounding_precision` decimals (0 to 12; default 0); units unchanged when the metric has
  no rounding_function. Exact decimal arithmetic: one branch per precision, because DuckDB
  rounds decimals exactly only at a constant precision. Every branch is cast on its own: DuckDB
  gives a CASE of DECIMAL(38, 12) and DECIMAL(38, 0) branches the type DECIMAL(38, 0), which
  would round the unrounded branch too.
#}
{% macro round_units(units, rounding_function, rounding_precision) -%}
    case
        when {{ rounding_function }} is null then cast({{ units }} as decimal(38, 12))
        {%- for p in range(0, 13) %}
        {%- set step = "cast(1e-" ~ p ~ " as decimal(38, " ~ p ~ "))" if p > 0 else "1" %}
        when {{ rounding_function }} = 'round' and coalesce({{ rounding_precision }}, 0) = {{ p }}
            then cast(round({{ units }}, {{ p }}) as decimal(38, 12))
        when {{ rounding_function }} = 'ceil' and coalesce({{ rounding_precision }}, 0) = {{ p }}
            then cast(ceil({{ units }} * {{ 10 ** p }}) * {{ step }} as decimal(38, 12))
        when {{ rounding_function }} = 'floor' and coalesce({{ rounding_precision }}, 0) = {{ p }}
            then cast(floor({{ units }} * {{ 10 ** p }}) * {{ step }} as decimal(38, 12))
        {%- endfor %}
    end
{%- endmacro %}
