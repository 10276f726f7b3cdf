-- custom_agg: each custom metric's own SQL aggregate (its `custom_aggregator`, checked when
-- the catalog loads) over the window's events, which expose value, properties, event_at and
-- transaction_id.
-- The refs below sit inside a catalog-dependent branch; dbt must know the parents whatever
-- the catalog holds:
-- depends_on: {{ ref('int_events_windowed') }}
-- depends_on: {{ ref('int_charge_windows') }}
{%- set custom_metrics = custom_aggregators() %}
{%- if custom_metrics | length == 0 %}
select
    cast(null as varchar) as window_id,
    cast(null as varchar) as pricing_id,
    cast(null as varchar) as group_key,
    cast(null as decimal(38, 12)) as units,
    cast(null as bigint) as events_count
where false
{%- else %}
{%- for metric_code, aggregator in custom_metrics %}
{%- if not loop.first %}
union all
{%- endif %}
select
    windows.window_id,
    events.pricing_id,
    events.group_key,
    cast(({{ aggregator }}) as decimal(38, 12)) as units,
    count(*) as events_count

from {{ ref('int_events_windowed') }} as events
inner join {{ ref('int_charge_windows') }} as windows using (window_key)
where windows.billable_metric_code = '{{ metric_code | replace("'", "''") }}'
group by windows.window_id, events.pricing_id, events.group_key
{%- endfor %}
{%- endif %}
