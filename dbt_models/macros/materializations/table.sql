{#-
  Tables rebuilt in place, in one transaction: drop the old table, create the new one. dbt's
  table materialization builds `<name>__dbt_tmp`, renames the old table to a backup, renames
  the new one into place and drops the backup, asking the catalog about indexes and foreign
  keys on the way: statements and cache lookups a close pays on each of its ~35 tables.
  DuckDB's DDL is transactional, so readers see the old table or the new one, never none;
  the warehouse has no foreign keys or indexes to carry over. Contracts (the marts) work as
  in dbt-duckdb: create_table_as declares the contract's columns and inserts into them.
-#}
{%- materialization table, adapter='duckdb' -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {{ drop_relation_if_exists(existing_relation) }}

  {% call statement('main') -%}
    {{- create_table_as(False, target_relation, sql) }}
  {%- endcall %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}
