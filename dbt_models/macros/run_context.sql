{#
  as_of(): the instant the close runs as of, as a timestamptz literal. It comes from the
  BILLING_AS_OF environment variable, which the Dagster dbt asset sets for each close (by hand:
  `BILLING_AS_OF=2026-11-01T00:00:00Z dbt build`). An environment variable rather than a dbt
  var: dbt re-parses only the files that read it when it changes, where a changed --vars
  would re-parse the whole project on every close.
#}
{% macro as_of() -%}
    cast('{{ env_var("BILLING_AS_OF", "2100-01-01T00:00:00Z") }}' as timestamptz)
{%- endmacro %}

{#
  close_instant(tz): the instant up to which a close reckons, for a customer in time zone `tz`.
  A daily-partitioned close (a schedule, a backfill, the UI) sets BILLING_CLOSE_DAY to its
  partition's day D: it closes, for every customer, the periods that end by the end of D in
  the customer's own time zone (local midnight after D). Otherwise it is as_of(), one instant
  for all (`billing run --as-of`).
#}
{% macro close_instant(tz) -%}
    {%- set day = env_var("BILLING_CLOSE_DAY", "") -%}
    {%- if day -%}
        {{ local_midnight("date '" ~ day ~ "' + 1", tz) }}
    {%- else -%}
        {{ as_of() }}
    {%- endif -%}
{%- endmacro %}
