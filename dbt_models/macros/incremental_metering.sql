{#
  Incremental metering (docs/billing-rules.md "Daily closes read the day's events").

  METERING_RULES_VERSION: bump it when int_events_outcomes decides an outcome differently:
  every warehouse's table is then recomputed from landing.events at its next close.
#}
{% macro metering_rules_version() -%}1{%- endmacro %}

{#
  metering_catalog_version(): a hash of everything in the catalog an event's outcome reads
  (a ubigint; the subscriptions' phases and plans, the metrics, the charges and their prices, which decide
  which events keep their properties) and of metering_rules_version(). An event's outcome
  depends on nothing else but the landed rows before it, so rows metered under the same
  version never need metering again. Read when dbt executes (the refs are built by then).
#}
{% macro metering_catalog_version() -%}
    {%- if not execute -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set sql -%}
        with parts as (
            select 'phases' as part, cast(row(external_subscription_id, phase_index,
                phase_started_at, phase_ended_at, plan_code) as varchar) as line
            from {{ ref('int_subscription_phases') }}
            union all
            select 'metrics', cast(metrics as varchar)
            from {{ ref('stg_catalog__billable_metrics') }} as metrics
            union all
            select 'charges', cast(row(charge_id, plan_code, billable_metric_code) as varchar)
            from {{ ref('stg_catalog__charges') }}
            union all
            select 'pricings', cast(row(charge_id, is_default_bucket, pricing_group_keys)
                as varchar)
            from {{ ref('stg_catalog__charge_pricings') }}
        )
        select hash('{{ metering_rules_version() }}#' || coalesce(
            string_agg(part || ':' || line, chr(10) order by part, line), ''))
        from parts
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values()[0]) }}
{%- endmacro %}

{#
  metered_through_seq(version): the last landing_seq this incremental model already holds,
  when every row it holds was metered under `version`; -1 (meter every landed row again) on a
  first or full-refresh build, or when the catalog or the rules changed since.
#}
{% macro metered_through_seq(version) -%}
    {%- if not (execute and is_incremental()) -%}
        {{ return(-1) }}
    {%- endif -%}
    {%- set row = run_query("select max(landing_seq), min(metered_under), max(metered_under) from "
                            ~ this).rows[0] -%}
    {%- if row[0] is none or row[1] != version or row[2] != version -%}
        {{ return(-1) }}
    {%- endif -%}
    {{ return(row[0] | int) }}
{%- endmacro %}

{#
  open_window_bounds(): what int_events_windowed must read of the billable events, as
  constants DuckDB prunes row groups with (their event_at min/max): (earliest start, latest
  end) of the windows present, and the metrics of windows that reach back to the
  subscription's first event (recurring metrics, carries_over), whose earlier events are read
  too. Keyed off the windows present: a window of any period (re-rating adds finalized ones)
  widens the range.
#}
{% macro open_window_bounds() -%}
    {%- if not execute -%}
        {{ return({'from': none, 'to': none, 'carried': []}) }}
    {%- endif -%}
    {%- set sql -%}
        select
            cast(min(charges_from_datetime) as varchar),
            cast(max(charges_to_datetime) as varchar),
            cast(null as varchar)
        from {{ ref('int_charge_windows') }}
        union all
        -- one row per metric that carries over (a list would come back as its text)
        select * from (
            select distinct null, null, billable_metric_code
            from {{ ref('int_charge_windows') }}
            where carries_over
            order by 3
        )
    {%- endset -%}
    {%- set found = {'from': none, 'to': none, 'carried': []} -%}
    {%- for row in run_query(sql).rows -%}
        {%- if row[2] is none -%}
            {%- do found.update({'from': row[0], 'to': row[1]}) -%}
        {%- else -%}
            {%- do found['carried'].append(row[2]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}
