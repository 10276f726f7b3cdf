-- percentage: a rate (%) of the amount beyond the free units, plus a fixed amount per paying
-- event (LAGO_RULES.md §5; getlago/lago-api ChargeModels::PercentageService and the running
-- totals of Aggregations::SumService). Events are taken in timestamp order.
--
-- Free units. With free_units_per_events = N the first N events are free: their total, but
-- no more than free_units_per_total_aggregation when that is set too. With only
-- free_units_per_total_aggregation = X, the running total is free up to X. Free events (no
-- fixed amount) are the N first events, or the events whose running total stays below X,
-- whichever is fewer.
--
-- Per-transaction minimum and maximum (a premium option in Lago): each paying event is
-- priced alone (rate x value + fixed amount, clamped to [min, max]); the free amount is used
-- up event by event first.
with

usage as (

    select * from {{ ref('int_usage_aggregated') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }} where charge_model = 'percentage'

),

pricings as (

    select
        pricing_id,
        rate * cast(0.01 as decimal(3, 2)) as rate_fraction,
        fixed_amount,
        coalesce(free_units_per_events, 0) as free_events_limit,
        coalesce(free_units_per_total_aggregation, 0) as free_total_limit,
        per_transaction_min_amount,
        per_transaction_max_amount,
        (select bool_and(premium) from {{ ref('stg_catalog__organization') }})
            and (per_transaction_min_amount is not null or per_transaction_max_amount is not null)
            as per_transaction

    from {{ ref('stg_catalog__charge_pricings') }}

),

events as (

    select
        windows.window_id,
        events.pricing_id,
        events.group_key,
        coalesce(events.value, 1) as value,
        row_number() over ordered as position,
        sum(coalesce(events.value, 1)) over running as total_after

    from {{ ref('int_events_windowed') }} as events
    inner join windows using (window_key)
    window
        ordered as (partition by events.window_key, events.pricing_id, events.group_key
                    order by events.event_at, events.landing_seq),
        running as (partition by events.window_key, events.pricing_id, events.group_key
                    order by events.event_at, events.landing_seq
                    rows between unbounded preceding and current row)

),

running_totals as (

    -- Lago's list of running totals: the first N events, or the events up to and including
    -- the one that takes the total beyond X.
    select
        events.*,
        pricings.free_events_limit,
        pricings.free_total_limit,
        case
            when pricings.free_events_limit > 0 then events.position <= pricings.free_events_limit
            when pricings.free_total_limit > 0 then bool_and(
                    events.total_after - events.value <= pricings.free_total_limit)
                over (partition by events.window_id, events.pricing_id, events.group_key
                      order by events.position rows between unbounded preceding and current row)
            else false
        end as in_free_list,
        -- the total is past X at or before this event (the free amount is used up)
        max(events.total_after) over (
            partition by events.window_id, events.pricing_id, events.group_key
            order by events.position rows between unbounded preceding and 1 preceding)
            >= pricings.free_total_limit as free_total_used_before

    from events
    inner join pricings using (pricing_id)

),

free_units as (

    select
        window_id,
        pricing_id,
        group_key,
        coalesce(arg_max(total_after, position) filter (where in_free_list), 0) as last_free_total,
        count(*) filter (where in_free_list and total_after < free_total_limit) as under_limit

    from running_totals
    group by window_id, pricing_id, group_key

),

per_transaction as (

    select
        running_totals.window_id,
        running_totals.pricing_id,
        running_totals.group_key,
        sum(case
            when paid_value is null then 0
            when pricings.per_transaction_min_amount is not null
                and priced < pricings.per_transaction_min_amount
                then pricings.per_transaction_min_amount
            when pricings.per_transaction_max_amount is not null
                and priced > pricings.per_transaction_max_amount
                then pricings.per_transaction_max_amount
            else priced
        end) as amount

    from (
        select
            running_totals.*,
            paid_value * pricings.rate_fraction + coalesce(pricings.fixed_amount, 0) as priced
        from (
            select
                running_totals.*,
                case
                    when running_totals.free_total_limit > 0 then case
                        when coalesce(running_totals.free_total_used_before, false)
                            then running_totals.value
                        when running_totals.total_after < running_totals.free_total_limit
                            then null
                        else running_totals.total_after - running_totals.free_total_limit
                    end
                    when running_totals.position <= running_totals.free_events_limit then null
                    else running_totals.value
                end as paid_value
            from running_totals
        ) as running_totals
        inner join pricings using (pricing_id)
    ) as running_totals
    inner join pricings using (pricing_id)
    group by running_totals.window_id, running_totals.pricing_id, running_totals.group_key

),

priced as (

    select
        usage.window_id,
        usage.pricing_id,
        usage.group_key,
        usage.units,
        usage.events_count,
        pricings.per_transaction,
        per_transaction.amount as per_transaction_amount,
        pricings.rate_fraction,
        pricings.fixed_amount,
        case
            when coalesce(free_units.last_free_total, 0) = 0 then 0
            when pricings.free_total_limit = 0 then free_units.last_free_total
            else least(free_units.last_free_total, pricings.free_total_limit)
        end as free_value,
        coalesce(list_min(list_filter(
            [pricings.free_events_limit, coalesce(free_units.under_limit, 0)], lambda n: n > 0)), 0)
            as free_events

    from usage
    inner join windows using (window_id)
    inner join pricings using (pricing_id)
    left join free_units
        on usage.window_id = free_units.window_id
        and usage.pricing_id = free_units.pricing_id
        and usage.group_key is not distinct from free_units.group_key
    left join per_transaction
        on usage.window_id = per_transaction.window_id
        and usage.pricing_id = per_transaction.pricing_id
        and usage.group_key is not distinct from per_transaction.group_key

)

select
    window_id,
    pricing_id,
    group_key,
    units,
    events_count,
    cast(case
        when per_transaction then coalesce(per_transaction_amount, 0)
        else
            case when free_value > units then 0 else (units - free_value) * rate_fraction end
            + case
                when units = 0 or fixed_amount is null or free_events >= events_count then 0
                else (events_count - free_events) * fixed_amount
            end
    end as decimal(38, 12)) as amount

from priced
