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
