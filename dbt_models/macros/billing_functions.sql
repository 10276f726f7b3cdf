{#
  SQL functions every model may call, created in the warehouse before each dbt invocation
  (on-run-start). They are DuckDB macros: the few DuckDB-only constructs live here.

  billing_divide(n, d): n / d as DECIMAL(38, 12), exact, rounded half away from zero.
    DuckDB divides decimals in DOUBLE; money and units never go through a float here.
    Computed on scaled integers (HUGEINT); a whole divisor (days, seconds) only scales the
    numerator, so very large numerators (value x seconds) stay exact. Division by zero gives
    null.

  With the warehouse attached read-only (orchestration/lib/dbt_warehouse.py, for `dbt test`
  beside other readers) nothing is created: the close that built the models created them.
#}
{% macro create_billing_functions() %}
{%- if execute and run_query("select readonly from duckdb_databases()
                               where database_name = current_database()").columns[0][0] -%}
select 1
{%- else -%}
create or replace macro billing_divide(n, d) as (
    case
        when n is null or d is null or cast(d as decimal(38, 12)) = 0 then null
        when cast(d as decimal(38, 12)) = trunc(cast(d as decimal(38, 12))) then cast(
            sign(cast(n as decimal(38, 12))) * sign(cast(d as decimal(38, 12)))
            * ((abs(cast(cast(n as decimal(38, 12)) * 1000000000000 as hugeint)) * 2
                // abs(cast(cast(d as decimal(38, 12)) as hugeint)) + 1) // 2)
            as decimal(38, 0)) * cast(0.000000000001 as decimal(13, 12))
        else cast(
            sign(cast(n as decimal(38, 12))) * sign(cast(d as decimal(38, 12)))
            * ((abs(cast(cast(n as decimal(38, 12)) * 1000000000000 as hugeint))
                * 1000000000000 * 2
                // abs(cast(cast(d as decimal(38, 12)) * 1000000000000 as hugeint)) + 1) // 2)
            as decimal(38, 0)) * cast(0.000000000001 as decimal(13, 12))
    end
);
{%- endif %}
{% endmacro %}
