-- dynamic: the events carry their own price: the sum of their precise_total_amount_cents,
-- converted to currency units; units are still the metric's sum (LAGO_RULES.md §5).
with

usage as (

    select * from {{ ref('int_usage_aggregated') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }} where charge_model = 'dynamic'

),

currencies as (

    select * from {{ ref('currencies') }}

),

event_amounts as (

    select
        windows.window_id,
        events.pricing_id,
        events.group_key,
        sum(events.precise_total_amount_cents) as precise_total_amount_cents

    from {{ ref('int_events_windowed') }} as events
    inner join windows using (window_key)
    group by windows.window_id, events.pricing_id, events.group_key

)

select
    usage.window_id,
    usage.pricing_id,
    usage.group_key,
    usage.units,
    usage.events_count,
    cast(coalesce({{ divide('event_amounts.precise_total_amount_cents',
                            'currencies.subunit_to_unit') }}, 0) as decimal(38, 12)) as amount

from usage
inner join windows using (window_id)
inner join currencies on windows.currency = currencies.currency
left join event_amounts
    on usage.window_id = event_amounts.window_id
    and usage.pricing_id = event_amounts.pricing_id
    and usage.group_key is not distinct from event_amounts.group_key
