{#
  event_value_text(): the text of the value a billable metric reads from an event, as Lago
  reads it (LAGO_RULES.md §3): the property named by the metric's field_name, or, for a metric
  with an `expression`, that formula computed from the event (translated to SQL when the
  catalog loads: orchestration/lib/catalog/expressions.py).

  Callers must have the columns `code`, `properties` (json), `event_at` and `field_name` in
  scope: the translated formulas refer to them by these names.

  is_numeric_text(text): Lago's rule for a usable numeric value: optional minus, digits,
  optional decimals; no exponent, no leading '+', no bare '.5'.
#}
{% macro event_value_text() -%}
    {%- set formulas = metric_formulas() -%}
    case
        {%- for metric_code, formula in formulas %}
        when code = '{{ metric_code | replace("'", "''") }}' then {{ formula }}
        {%- endfor %}
        {#- each catalog field as a constant JSON path: parsed once, not once per event #}
        {%- for metric_code, field_name in metric_fields() %}
        when code = '{{ metric_code | replace("'", "''") }}'
            then json_extract_string(properties, '{{ ('$."' ~ field_name ~ '"') | replace("'", "''") }}')
        {%- endfor %}
        when field_name is null then null
        else json_extract_string(properties, '$."' || field_name || '"')
    end
{%- endmacro %}

{% macro is_numeric_text(text) -%}
    coalesce(regexp_full_match({{ text }}, '-?\d+(\.\d+)?'), false)
{%- endmacro %}

{#
  metric_formulas(): (code, SQL) of the metrics that have an expression, read from the
  loaded catalog when dbt executes. Empty at parse time or before any catalog is loaded.
#}
{% macro metric_formulas() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='catalog',
                                             identifier='billable_metrics') -%}
    {%- if relation is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = run_query("select billable_metric_code, expression_sql from catalog.billable_metrics where expression_sql is not null order by 1") -%}
    {{ return(rows.rows | list) }}
{%- endmacro %}

{#
  metric_fields(): (code, field_name) of the metrics that read a field and have no expression,
  read from the loaded catalog when dbt executes. Empty at parse time or before any catalog
  is loaded (event_value_text() then reads field_name per event).
#}
{% macro metric_fields() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='catalog',
                                             identifier='billable_metrics') -%}
    {%- if relation is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = run_query("select billable_metric_code, field_name from catalog.billable_metrics where expression_sql is null and field_name is not null order by 1") -%}
    {{ return(rows.rows | list) }}
{%- endmacro %}

{#
  custom_aggregators(): (code, SQL aggregate) of the custom_agg metrics of the loaded catalog.
#}
{% macro custom_aggregators() -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='catalog',
                                             identifier='billable_metrics') -%}
    {%- if relation is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set rows = run_query("select billable_metric_code, custom_aggregator from catalog.billable_metrics where aggregation_type = 'custom_agg' order by 1") -%}
    {{ return(rows.rows | list) }}
{%- endmacro %}
