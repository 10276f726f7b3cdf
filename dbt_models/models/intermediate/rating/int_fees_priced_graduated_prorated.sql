-- graduated, prorated (int_charge_windows.is_prorated): the tiers are filled by the running
-- count of full units, event by event, and each unit is priced by its prorated share of the
-- period (LAGO_RULES.md §3, §5; getlago/lago-api ChargeModels::ProratedGraduatedService, its
-- spec spec/services/charge_models/prorated_graduated_service_spec.rb and the scenarios of
-- spec/scenarios/current_usage/by_charge_model/prorated_graduated_spec.rb).
--
-- The movements (int_usage_prorated_events) come in order. A movement of f full units and p
-- prorated units moves the running count from `before` to `before + f`: an addition takes
-- the unit slots above `before`, a removal gives back the topmost ones. Each slot it crosses
-- is priced at the unit price of the tier holding the slot, weighted p / |f| (an added seat
-- of 22 of 31 days weighs 0.70968 wherever it lands; a sum_agg removal of 2 units on the
-- 21st of July, p = -2 x 11/31, gives back 11/31 of each of the 2 topmost slots; a
-- unique_count_agg remove, p = 0, only lowers the count: its value's days are on its add).
-- For whole counts on "+1" ranges this is what Lago's loop computes, tier overflows and
-- all; docs/billing-rules.md says where the loop differs (fractional counts, adjacent
-- ranges crossed downwards). A tier holds the slots
-- above the previous tier's to_value up to its own to_value, in both range conventions
-- ("+1" 0-5, 6-15 and adjacent 0-5, 5-15: slots 1-5, then 6-15); the first tier also holds
-- any slot at or below 0.
--
-- amount = Σ over movements and tiers of (slots crossed in the tier) x p / |f| x the tier's
-- unit price, floored at 0, plus the flat amount of every tier the highest running count
-- reached (the first tier's always). As in Lago: with no prorated usage (prorated units 0)
-- only the first tier's flat amount is billed; a negative final count bills nothing.
-- `units` stay the full units at the window's end (Lago's full_units_number).
with

usage as (

    select * from {{ ref('int_usage_aggregated') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }}
    where charge_model = 'graduated' and is_prorated

),

tiers as (

    select
        pricing_id,
        position,
        per_unit_amount,
        flat_amount,
        -- the slots of the tier: (lower_bound, to_value]; null means unbounded
        lag(to_value) over (partition by pricing_id order by position) as lower_bound,
        to_value as upper_bound

    from {{ ref('stg_catalog__charge_tiers') }}
    where tier_kind = 'graduated'

),

movements as (

    select
        events.window_id,
        events.pricing_id,
        events.group_key,
        events.event_at,
        events.landing_seq,
        events.full_units,
        events.prorated_units,
        sum(events.full_units) over running - events.full_units as count_before,
        sum(events.full_units) over running as count_after

    from {{ ref('int_usage_prorated_events') }} as events
    inner join windows using (window_id)
    window running as (partition by events.window_id, events.pricing_id, events.group_key
                       order by events.event_at, events.landing_seq
                       rows between unbounded preceding and current row)

),

counts as (

    select
        window_id,
        pricing_id,
        group_key,
        greatest(max(count_after), 0) as highest_count,
        arg_max(count_after, (event_at, landing_seq)) as final_count

    from movements
    group by window_id, pricing_id, group_key

),

slots as (

    -- the slots (low, high] a movement crosses, in each tier
    select
        moved.window_id,
        moved.pricing_id,
        moved.group_key,
        moved.full_units,
        moved.prorated_units,
        tiers.per_unit_amount,
        greatest(
            case when tiers.upper_bound is null or moved.high < tiers.upper_bound
                then moved.high else tiers.upper_bound end
            - case when tiers.lower_bound is null or moved.low > tiers.lower_bound
                then moved.low else tiers.lower_bound end,
            0) as slots_crossed

    from (
        select
            *,
            least(count_before, count_after) as low,
            greatest(count_before, count_after) as high
        from movements
        where full_units <> 0
    ) as moved
    inner join tiers using (pricing_id)

),

unit_amounts as (

    select
        window_id,
        pricing_id,
        group_key,
        -- slots x p x unit price / |f|, divided last so that whole shares stay exact; each
        -- product back to 12 decimals, as DuckDB adds the scales of its factors
        sum({{ divide('cast(cast(slots_crossed * prorated_units as decimal(38, 12))'
                      ' * per_unit_amount as decimal(38, 12))', 'abs(full_units)') }})
            as unit_amount

    from slots
    group by window_id, pricing_id, group_key

),

priced as (

    select
        usage.window_id,
        usage.pricing_id,
        usage.group_key,
        usage.units,
        usage.events_count,
        usage.prorated_units,
        coalesce(counts.final_count, 0) as final_count,
        greatest(coalesce(unit_amounts.unit_amount, 0), 0) as unit_amount,
        -- the flat amounts of the tiers the highest count reached (the first tier's always)
        (select sum(tiers.flat_amount)
         from tiers
         where tiers.pricing_id = usage.pricing_id
             and (tiers.lower_bound is null
                  or (coalesce(usage.prorated_units, 0) <> 0
                      and coalesce(counts.highest_count, 0) > tiers.lower_bound)))
            as flat_amount

    from usage
    inner join windows using (window_id)
    left join counts
        on usage.window_id = counts.window_id
        and usage.pricing_id = counts.pricing_id
        and usage.group_key is not distinct from counts.group_key
    left join unit_amounts
        on usage.window_id = unit_amounts.window_id
        and usage.pricing_id = unit_amounts.pricing_id
        and usage.group_key is not distinct from unit_amounts.group_key

)

select
    window_id,
    pricing_id,
    group_key,
    units,
    events_count,
    cast(case
        when final_count < 0 then 0
        when coalesce(prorated_units, 0) = 0 then flat_amount
        else unit_amount + flat_amount
    end as decimal(38, 12)) as amount

from priced
