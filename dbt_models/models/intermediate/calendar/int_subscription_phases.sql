-- One row per stretch of a subscription on one plan: from its start (or a plan change) to
-- the next plan change or its termination. Events belong to the external subscription id, so
-- every phase of a subscription sees the same events (LAGO_RULES.md §2).
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

phases as (

    select
        subscriptions.external_subscription_id,
        0 as phase_index,
        subscriptions.external_customer_id,
        subscriptions.plan_code,
        subscriptions.billing_time,
        subscriptions.subscription_at,
        subscriptions.started_at as phase_started_at,
        subscriptions.terminated_at as phase_ended_at,
        case when subscriptions.terminated_at is not null then 'terminated' end as end_reason

    from subscriptions

),

described as (

    select
        phases.*,
        customers.timezone,
        customers.currency,
        plans.plan_interval,
        plans.pay_in_advance,
        plans.amount_cents as plan_amount_cents,
        plans.trial_period_days

    from phases
    inner join customers using (external_customer_id)
    inner join plans using (plan_code)

)

select * from described
