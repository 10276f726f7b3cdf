{{ config(materialized='table') }}

-- One row per subscription phase per billing period, up to the period containing --as-of.
-- Periods are reckoned on local dates in the customer's time zone (LAGO_RULES.md §6) and
-- stored both as local dates and as the UTC instants of their boundaries.
with

phases as (

    select * from {{ ref('int_subscription_phases') }}

),

-- the instant this close reckons to, in each customer's time zone (close_instant(): one
-- instant for `billing run --as-of`, the end of the partition's day locally for a daily close)
run as (

    select *, {{ close_instant('timezone') }} as as_of_at
    from phases

),

framed as (

    select
        phases.*,
        {{ local_date('phases.phase_started_at', 'phases.timezone') }} as phase_start_date,
        -- a downgrade ends the phase at a period boundary: its last day is the day before
        {{ local_date("phases.phase_ended_at - case when phases.end_reason = 'downgrade' "
                      "then interval 1 microsecond else interval 0 microsecond end",
                      'phases.timezone') }} as phase_end_date,
        {{ local_date('phases.as_of_at', 'phases.timezone') }} as as_of_date,
        -- A trial runs for the plan's trial_period days from the subscription's first start
        -- (also after a plan change), to the instant.
        case
            when phases.trial_period_days > 0
                then phases.subscription_started_at
                    + to_days(cast(phases.trial_period_days as integer))
        end as trial_ends_at,
        {{ months_in_interval('phases.plan_interval') }} as months_step,
        case
            when phases.billing_time = 'anniversary'
                then {{ local_date('phases.subscription_at', 'phases.timezone') }}
            when phases.plan_interval = 'weekly' then date '2000-01-03'
            else date '2000-01-01'
        end as period_origin

    from run as phases
    where phases.phase_started_at <= phases.as_of_at

),

spanned as (

    select
        *,
        {{ period_index('period_origin', 'months_step', 'phase_start_date') }} as first_period,
        {{ period_index('period_origin', 'months_step',
                        'least(coalesce(phase_end_date, as_of_date), as_of_date)') }}
            as last_period

    from framed

),

periods as (

    select
        spanned.*,
        unnest(range(first_period, last_period + 1)) as period_index

    from spanned

),

dated as (

    select
        *,
        {{ period_start('period_origin', 'months_step', 'period_index') }} as period_start_date,
        {{ period_start('period_origin', 'months_step', 'period_index + 1') }}
            as next_period_start_date

    from periods

),

bounded as (

    select
        *,
        cast(next_period_start_date - 1 as date) as period_end_date,
        date_diff('day', period_start_date, next_period_start_date) as period_days,
        {{ local_midnight('period_start_date', 'timezone') }} as period_started_at,
        {{ local_midnight('next_period_start_date', 'timezone') }} as period_boundary_at,
        greatest(period_start_date, phase_start_date) as billed_from_date,
        least(cast(next_period_start_date - 1 as date),
              coalesce(phase_end_date, cast(next_period_start_date - 1 as date)))
            as billed_to_date,
        -- The first day the subscription fee is due: no fee during a trial; the day the trial
        -- ends is billed (Lago counts a started day as a day).
        greatest(period_start_date, phase_start_date,
                 coalesce({{ local_date('trial_ends_at', 'timezone') }}, phase_start_date))
            as fee_from_date

    from dated
    -- an upgrade at the very instant a period starts leaves the old plan nothing of it
    where not coalesce(end_reason = 'upgrade' and period_started_at >= phase_ended_at, false)

),

final as (

    select
        external_subscription_id,
        phase_index,
        period_index,
        external_customer_id,
        plan_code,
        currency,
        timezone,
        billing_time,
        plan_interval,
        pay_in_advance,
        plan_amount_cents,
        period_start_date,
        period_end_date,
        period_days,
        billed_from_date,
        billed_to_date,
        -- Lago's day count: local days from the first billed day to the last, both included;
        -- the day of an upgrade belongs to the new plan.
        date_diff('day', billed_from_date, billed_to_date) + 1
            - case
                when end_reason = 'upgrade' and phase_ended_at < period_boundary_at then 1
                else 0
              end as billed_days,
        fee_from_date,
        -- Days of the subscription fee: the billed days after any trial (0 when a trial
        -- covers them all).
        greatest(date_diff('day', fee_from_date, billed_to_date) + 1
            - case
                when end_reason = 'upgrade' and phase_ended_at < period_boundary_at then 1
                else 0
              end, 0) as fee_days,
        -- Subscription period, as Lago shows it: from local midnight of the first billed day
        -- to the end of the period (23:59:59.999999 local) or the termination instant.
        {{ local_midnight('billed_from_date', 'timezone') }} as from_datetime,
        case
            when phase_ended_at < period_boundary_at then phase_ended_at
            else period_boundary_at - interval 1 microsecond
        end as to_datetime,
        -- Usage window: from the exact start instant to the end of the period or termination.
        -- An upgrade's instant belongs to the new plan's window (no event is billed twice).
        greatest(period_started_at, phase_started_at) as charges_from_datetime,
        case
            when phase_ended_at < period_boundary_at and end_reason = 'upgrade'
                then phase_ended_at - interval 1 microsecond
            when phase_ended_at < period_boundary_at then phase_ended_at
            else period_boundary_at - interval 1 microsecond
        end as charges_to_datetime,
        period_started_at,
        period_boundary_at,
        -- When the period's in-arrears invoice is generated: at the next period boundary, or
        -- when the subscription ends inside the period.
        case
            when phase_ended_at < period_boundary_at then phase_ended_at
            else period_boundary_at
        end as closes_at,
        -- When an in-advance fee for this period is billed: at the period start, when the
        -- phase starts inside it, or when its trial ends inside it.
        greatest(period_started_at, phase_started_at, coalesce(trial_ends_at, phase_started_at))
            as opens_at,
        period_index = first_period as is_first_period,
        phase_ended_at is not null and phase_ended_at < period_boundary_at as is_last_period,
        end_reason,
        phase_started_at,
        phase_ended_at,
        trial_period_days,
        trial_ends_at,
        bill_charges_monthly,
        period_origin,
        months_step,
        as_of_at

    from bounded

)

select * from final
