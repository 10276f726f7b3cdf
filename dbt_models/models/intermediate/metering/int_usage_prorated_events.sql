-- The prorated charges' usage event by event (int_charge_windows.is_prorated), in the order
-- the units came and went: what Lago's per_event_aggregation gives its prorated graduated
-- model (getlago/lago-api ProratedAggregations::SumService#per_event_aggregation and
-- UniqueCountService#per_event_aggregation, Postgres UniqueCountQuery#prorated_breakdown_query).
-- int_usage_prorated adds these rows up; int_fees_priced_graduated_prorated places them in tiers.
--
-- One row per unit movement of a charge window, price and pricing group, ordered by
-- (event_at, landing_seq):
--   full_units      units added (> 0) or removed (< 0), unprorated;
--   unit_days       Σ units x the local days they are billed in the window (exact);
--   prorated_units  those units prorated, as Lago hands them to the charge model.
--
-- sum_agg: the value carried into the window (every earlier event, netted into one row, as
--   Lago's recurring value) weighs billed days (the whole period unless the subscription
--   started or ended inside it); an event of the window weighs (local date of the window end
--   - local date of the event + 1), so a negative value (a removal) gives back the days left.
--   prorated_units = unit_days / period days (exact to 12 decimals).
-- unique_count_agg: each presence of a value (an add up to its next remove, or open) that
--   reaches into the window is one +1 row at its add, weighing the local days of the window
--   on which the value was present (add day and remove day both counted), and, when its
--   remove falls in the window, one -1 row there weighing nothing. As in Lago: repeated
--   operations and a first remove change nothing, and a remove followed later the same
--   local day by an add of the same value is ignored (the value stays present, that day
--   counts once). prorated_units = days / period days rounded up to 5 decimals per value,
--   as Lago rounds each row of the breakdown.
-- Presences that ended before the window have no row: they occupy no tier (Lago's regression
-- "Users removed in previous billing period should not occupy tier slots").
with

windows as (

    select * from {{ ref('int_charge_windows') }} where is_prorated

),

events as (

    select
        windows.window_id,
        events.* exclude (window_key),
        windows.aggregation_type,
        windows.charges_from_datetime,
        windows.charges_to_datetime,
        windows.timezone,
        windows.period_days,
        windows.billed_days

    from {{ ref('int_events_windowed') }} as events
    inner join windows using (window_key)

),

-- sum_agg ---------------------------------------------------------------------------------

sum_carried as (

    select
        window_id,
        pricing_id,
        group_key,
        min(event_at) as event_at,
        min(landing_seq) as landing_seq,
        sum(value) as full_units,
        sum(value) * any_value(billed_days) as unit_days,
        any_value(period_days) as period_days

    from events
    where aggregation_type = 'sum_agg' and before_window and value is not null
    group by window_id, pricing_id, group_key
    having sum(value) <> 0

),

sum_in_window as (

    select
        window_id,
        pricing_id,
        group_key,
        event_at,
        landing_seq,
        value as full_units,
        value * (date_diff('day', {{ local_date('event_at', 'timezone') }},
                           {{ local_date('charges_to_datetime', 'timezone') }}) + 1) as unit_days,
        period_days

    from events
    where aggregation_type = 'sum_agg' and not before_window and value is not null

),

sum_rows as (

    select
        *,
        cast({{ divide('unit_days', 'period_days') }} as decimal(38, 12)) as prorated_units
    from (select * from sum_carried union all select * from sum_in_window)

),

-- unique_count_agg ------------------------------------------------------------------------

value_events as (

    select
        *,
        -- a later add of the same value on the same local day
        coalesce(bool_or(operation_type = 'add') over (
            partition by window_id, pricing_id, group_key, value_text,
                {{ local_date('event_at', 'timezone') }}
            order by event_at, landing_seq
            rows between 1 following and unbounded following), false) as added_again_that_day

    from events
    where aggregation_type = 'unique_count_agg'

),

operations as (

    select
        *,
        -- an operation repeating the value's previous one changes nothing; a first remove
        -- removes nothing
        operation_type <> coalesce(lag(operation_type) over value_order, 'remove') as effective

    from value_events
    where not (operation_type = 'remove' and added_again_that_day)
    window value_order as (partition by window_id, pricing_id, group_key, value_text
                           order by event_at, landing_seq)

),

presences as (

    -- One row per add, up to the value's next (remove) operation, or open.
    select
        *,
        lead(event_at) over value_order as removed_at,
        lead(landing_seq) over value_order as removed_seq

    from operations
    where effective
    window value_order as (partition by window_id, pricing_id, group_key, value_text
                           order by event_at, landing_seq)

),

present as (

    select
        *,
        date_diff('day',
            {{ local_date('greatest(event_at, charges_from_datetime)', 'timezone') }},
            {{ local_date('coalesce(removed_at, charges_to_datetime)', 'timezone') }}) + 1
            as days

    from presences
    where operation_type = 'add'
        and (removed_at is null or removed_at >= charges_from_datetime)

),

unique_rows as (

    select
        window_id,
        pricing_id,
        group_key,
        event_at,
        landing_seq,
        1 as full_units,
        days as unit_days,
        period_days,
        -- days / period_days rounded up to 5 decimals, in integers
        cast(cast((days * 100000 + period_days - 1) // period_days as decimal(38, 0))
            * cast(0.00001 as decimal(6, 5)) as decimal(38, 12)) as prorated_units

    from present

    union all

    select
        window_id,
        pricing_id,
        group_key,
        removed_at,
        removed_seq,
        -1,
        0,
        period_days,
        cast(0 as decimal(38, 12))

    from present
    where removed_at is not null

)

select
    window_id,
    pricing_id,
    group_key,
    event_at,
    landing_seq,
    cast(full_units as decimal(38, 12)) as full_units,
    cast(unit_days as decimal(38, 12)) as unit_days,
    cast(period_days as integer) as period_days,
    cast(prorated_units as decimal(38, 12)) as prorated_units

from (select * from sum_rows union all by name select * from unique_rows)
