{#
  Billing-period arithmetic on local dates (LAGO_RULES.md §6), shared by every model that
  needs to know where a period starts.

  A subscription's periods are numbered from an origin date: for anniversary billing the local
  date of `subscription_at`; for calendar billing a fixed date aligned on every calendar
  boundary (Monday 2000-01-03 for weeks, 2000-01-01 for months, quarters, halves and years).
  Period i starts at origin + i intervals, always counted from the origin, so that a
  subscription on the 31st bills from the 30th in April and the 28th or 29th in February and
  back to the 31st in March.

  period_start(origin, months_step, i): local start date of period i (weekly: months_step null).
  period_index(origin, months_step, d): number of the period containing local date d.
#}
{% macro period_start(origin, months_step, index) -%}
    case
        when {{ months_step }} is null
            then cast({{ origin }} + cast(7 * ({{ index }}) as integer) as date)
        else cast({{ origin }} + to_months(cast({{ months_step }} * ({{ index }}) as integer)) as date)
    end
{%- endmacro %}

{% macro period_index(origin, months_step, d) -%}
    case
        when {{ months_step }} is null
            then cast(floor(date_diff('day', {{ origin }}, {{ d }}) / 7.0) as integer)
        else cast(floor((
            date_diff('month', {{ origin }}, {{ d }})
            - case
                when {{ origin }} + to_months(date_diff('month', {{ origin }}, {{ d }})) > {{ d }}
                    then 1 else 0
              end
        ) / cast({{ months_step }} as double)) as integer)
    end
{%- endmacro %}

{#
  months_in_interval(interval): months per period, null for weekly plans.
#}
{% macro months_in_interval(interval) -%}
    case {{ interval }}
        when 'monthly' then 1
        when 'quarterly' then 3
        when 'semiannual' then 6
        when 'yearly' then 12
    end
{%- endmacro %}
