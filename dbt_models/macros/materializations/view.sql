{#-
  Views in one statement. dbt's default view materialization creates `<name>__dbt_tmp`,
  renames the old view to a backup, renames the new one into place and drops the backup: five
  statements and their cache lookups per view, about a fifth of the time a close spends on
  its ~70 views. DuckDB replaces a view atomically inside the model's transaction, so
  `create or replace view` does the same in one. A table of the same name (a model that was
  a table before) is dropped first. Contracts and the sql_header config work as in
  dbt-duckdb's create_view_as.
-#}
{%- materialization view, adapter='duckdb' -%}

  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='view') -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% if existing_relation is not none and existing_relation.type != 'view' %}
    {{ drop_relation_if_exists(existing_relation) }}
  {% endif %}

  {% call statement('main') -%}
    {% if config.get('contract').enforced %}
      {{ get_assert_columns_equivalent(sql) }}
    {%- endif %}
    {%- set sql_header = config.get('sql_header', none) -%}
    {{ sql_header if sql_header is not none }}
    create or replace view {{ target_relation }} as (
      {{ sql }}
    );
  {%- endcall %}

  {% do persist_docs(target_relation, model) %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}

{%- endmaterialization -%}
