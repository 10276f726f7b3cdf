-- One row per stretch of a subscription on one plan: from its start (or the plan change that
-- began it) to the next plan change or its termination. Events belong to the external
-- subscription id, so every phase of a subscription sees the same events (LAGO_RULES.md §2),
-- each priced by the plan in force when it happened.
--
-- Plan changes (`plan_changes` in the catalog) are requests; when they take effect is Lago's
-- rule (LAGO_RULES.md §8): a plan whose yearly price (weekly x 52, monthly x 12, quarterly x
-- 4, semiannual x 2) is at least the current plan's is an upgrade and takes effect at the
-- instant requested; a cheaper plan is a downgrade and takes effect at the end of the current
-- period, in the customer's time zone. A downgrade still pending when the next change is
-- requested is replaced by it, as in Lago. The new phase keeps the subscription's date and
-- billing time, so anniversary periods carry on.
with

subscriptions as (

    select * from {{ ref('stg_catalog__subscriptions') }}

),

customers as (

    select * from {{ ref('stg_catalog__customers') }}

),

plans as (

    select * from {{ ref('stg_catalog__plans') }}

),

requests as (

    select
        changes.external_subscription_id,
        changes.position,
        changes.plan_code,
        changes.requested_at,
        changes.kind,
        subscriptions.billing_time,
        subscriptions.subscription_at,
        subscriptions.terminated_at,
        customers.timezone

    from {{ ref('stg_catalog__plan_changes') }} as changes
    inner join subscriptions using (external_subscription_id)
    inner join customers using (external_customer_id)
    where subscriptions.terminated_at is null or changes.requested_at < subscriptions.terminated_at

),

-- Each request is compared with the plan requested before it (or the subscription's own).
-- Known simplification: when a request replaces a pending downgrade, Lago compares it with
-- the plan in force (the one before the downgrade); here it is compared with the downgrade's.
classified as (

    select
        requests.*,
        lag(requests.plan_code, 1, subscriptions.plan_code) over (
            partition by requests.external_subscription_id
            order by requests.requested_at, requests.position) as from_plan_code

    from requests
    inner join subscriptions using (external_subscription_id)

),

effective as (

    select
        classified.*,
        case
            -- a plan version followed by the subscription applies at its effective date,
            -- whatever its price, both versions prorated (docs/billing-rules.md)
            when classified.kind = 'version' then 'upgrade'
            when new_plan.yearly_amount_cents >= old_plan.yearly_amount_cents then 'upgrade'
            else 'downgrade'
        end as change_kind,
        old_plan.plan_interval as from_interval,
        {{ local_date('classified.requested_at', 'classified.timezone') }} as requested_date,
        case
            when classified.billing_time = 'anniversary'
                then {{ local_date('classified.subscription_at', 'classified.timezone') }}
            when old_plan.plan_interval = 'weekly' then date '2000-01-03'
            else date '2000-01-01'
        end as period_origin,
        {{ months_in_interval('old_plan.plan_interval') }} as months_step

    from classified
    inner join plans as new_plan on new_plan.plan_code = classified.plan_code
    inner join plans as old_plan on old_plan.plan_code = classified.from_plan_code
    where classified.plan_code <> classified.from_plan_code

),

timed as (

    select
        effective.*,
        case
            when change_kind = 'upgrade' then requested_at
            else {{ local_midnight(period_start(
                'period_origin', 'months_step',
                period_index('period_origin', 'months_step', 'requested_date') ~ ' + 1'),
                'timezone') }}
        end as effective_at

    from effective

),

-- A downgrade that has not taken effect when the next change is requested is replaced.
kept as (

    select *
    from timed
    qualify effective_at <= coalesce(lead(requested_at) over (
        partition by external_subscription_id order by requested_at, position), effective_at)
        and (terminated_at is null or effective_at < terminated_at)

),

starts as (

    select
        external_subscription_id,
        plan_code,
        started_at as phase_started_at,
        cast(null as varchar) as started_by,
        -1 as position

    from subscriptions

    union all

    select
        external_subscription_id,
        plan_code,
        effective_at as phase_started_at,
        change_kind as started_by,
        position

    from kept

),

phases as (

    select
        starts.external_subscription_id,
        cast(row_number() over by_start - 1 as integer) as phase_index,
        subscriptions.external_customer_id,
        starts.plan_code,
        subscriptions.billing_time,
        subscriptions.subscription_at,
        starts.phase_started_at,
        -- the first phase's start: trials run from it whatever the plan changes
        subscriptions.started_at as subscription_started_at,
        coalesce(lead(starts.phase_started_at) over by_start, subscriptions.terminated_at)
            as phase_ended_at,
        coalesce(lead(starts.started_by) over by_start,
                 case when subscriptions.terminated_at is not null then 'terminated' end)
            as end_reason

    from starts
    inner join subscriptions using (external_subscription_id)
    window by_start as (partition by starts.external_subscription_id
                        order by starts.phase_started_at, starts.position)

),

described as (

    select
        phases.*,
        customers.timezone,
        customers.currency,
        plans.plan_interval,
        plans.pay_in_advance,
        plans.amount_cents as plan_amount_cents,
        plans.trial_period_days,
        plans.bill_charges_monthly

    from phases
    inner join customers using (external_customer_id)
    inner join plans using (plan_code)

)

select * from described
