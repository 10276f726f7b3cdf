{#
  Local time <-> instants (DuckDB ICU). Periods are reckoned on local dates in the customer's
  time zone; boundaries are stored as UTC instants of local midnight (LAGO_RULES.md §6).

  local_date(instant, tz): the local calendar date of a UTC instant.
  local_midnight(date, tz): the UTC instant at which local `date` begins. On a DST day this
    is the real instant (23 or 25 hours after the previous midnight), so no hour is lost or
    counted twice.
#}
{% macro local_date(instant, tz) -%}
    cast(timezone({{ tz }}, {{ instant }}) as date)
{%- endmacro %}

{% macro local_midnight(date, tz) -%}
    timezone({{ tz }}, cast({{ date }} as timestamp))
{%- endmacro %}
