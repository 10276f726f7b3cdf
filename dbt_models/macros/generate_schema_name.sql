{#
  Use the folder's schema name as it is (`staging`, `intermediate`, `ledger`), not dbt's
  default `<target schema>_<custom schema>`: the warehouse is ours alone, and people query
  `staging.stg_…` and `main.invoices` by these names.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
