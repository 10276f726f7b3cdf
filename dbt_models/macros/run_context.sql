{#
  as_of(): the instant the close runs as of, as a timestamptz literal. It comes from the
  BILLING_AS_OF environment variable, which the Dagster dbt asset sets for each close (by hand:
  `BILLING_AS_OF=2026-11-01T00:00:00Z dbt build`). An environment variable rather than a dbt
  var: a changed --vars would re-parse the whole project on every close.

  The variables are read only when dbt executes (`execute`), never while it parses: dbt
  records the variables a file reads during parsing and re-parses those files when their
  values change, which every close would do (each has its own instant). The value decides
  no ref and no config, only the SQL text, which dbt renders again when it runs the model.
#}
{% macro run_variable(name, default) -%}
    {{ return(env_var(name, default) if execute else default) }}
{%- endmacro %}

{% macro as_of() -%}
    cast('{{ run_variable("BILLING_AS_OF", "2100-01-01T00:00:00Z") }}' as timestamptz)
{%- endmacro %}

{#
  close_instant(tz): the instant up to which a close reckons, for a customer in time zone `tz`.
  A daily-partitioned close (a schedule, a backfill, the UI) sets BILLING_CLOSE_DAY to its
  partition's day D: it closes, for every customer, the periods that end by the end of D in
  the customer's own time zone (local midnight after D). Otherwise it is as_of(), one instant
  for all (`billing run --as-of`).
#}
{% macro close_instant(tz) -%}
    {%- set day = run_variable("BILLING_CLOSE_DAY", "") -%}
    {%- if day -%}
        {{ local_midnight("date '" ~ day ~ "' + 1", tz) }}
    {%- else -%}
        {{ as_of() }}
    {%- endif -%}
{%- endmacro %}
