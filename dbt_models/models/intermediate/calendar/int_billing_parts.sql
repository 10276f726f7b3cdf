{{ config(materialized='table') }}

-- Every part of a billing period due by --as-of, billed or not: its subscription fee (billed
-- when the period opens for pay-in-advance plans, when it closes otherwise), its in-arrears
-- charges (billed when it closes) and, for a plan with a minimum commitment, its commitment
-- true-up (billed when it closes, LAGO_RULES.md §15). `billed_invoice_id` names the finalized
-- invoice that billed the part (the ledger), null while it is not billed: int_billing_items
-- keeps the parts to bill, int_rerate_scope the billed parts a re-rating recomputes.
-- `billing_at` is the instant the part is billed; the parts of one customer billed at the
-- same instant share one invoice (LAGO_RULES.md §6), except that a termination has an invoice
-- of its own (`invoice_group` 'terminating'), as Lago issues one even when nothing is due.
with

periods as (

    select * from {{ ref('int_billing_periods') }}

),

charges as (

    select * from {{ ref('stg_catalog__charges') }}

),

plans_with_commitment as (

    select plan_code
    from {{ ref('stg_catalog__plans') }}
    where minimum_commitment_amount_cents > 0

),

plans_with_arrears_charges as (

    select distinct plan_code from charges where not pay_in_advance

),

finalized as (

    {{ finalized_billing_items() }}

),

charge_periods as (

    select * from {{ ref('int_charge_periods') }}

),

subscription_fee_parts as (

    select
        periods.*,
        0 as charges_index,
        'subscription_fee' as item_type,
        case when periods.pay_in_advance then periods.opens_at else periods.closes_at end
            as billing_at,
        case
            when not periods.pay_in_advance and periods.end_reason = 'terminated'
                and periods.is_last_period then 'terminating'
            else 'periodic'
        end as invoice_group

    from periods
    -- a trial covering the rest of the period leaves no fee to bill
    where periods.fee_from_date <= case
        when periods.pay_in_advance then periods.period_end_date else periods.billed_to_date end

),

-- A period's charges are billed when its usage window closes: at the period's end, or each
-- month's end for plans billing charges monthly.
charge_parts as (

    select
        periods.* exclude (window_from_datetime, window_to_datetime, window_closes_at,
                           window_days, window_billed_days)
            replace (periods.window_from_datetime as charges_from_datetime,
                     periods.window_to_datetime as charges_to_datetime,
                     periods.window_days as period_days,
                     periods.window_billed_days as billed_days),
        'charges' as item_type,
        periods.window_closes_at as billing_at,
        case
            when periods.end_reason = 'terminated' and periods.is_last_period
                and periods.window_closes_at = periods.closes_at then 'terminating'
            else 'periodic'
        end as invoice_group

    from charge_periods as periods
    left join plans_with_arrears_charges using (plan_code)
    -- a termination is invoiced even when the plan has no usage charges
    where plans_with_arrears_charges.plan_code is not null
        or (periods.end_reason = 'terminated' and periods.is_last_period
            and periods.window_closes_at = periods.closes_at)

),

-- A period's minimum commitment is trued up when the period closes, on the invoice of its
-- last charges (in arrears) or of the next period's fee (in advance: Lago reconciles the
-- previous period), which is the invoice billed at the period's close either way.
commitment_parts as (

    select
        periods.*,
        0 as charges_index,
        'commitment' as item_type,
        periods.closes_at as billing_at,
        case
            when periods.end_reason = 'terminated' and periods.is_last_period then 'terminating'
            else 'periodic'
        end as invoice_group

    from periods
    inner join plans_with_commitment using (plan_code)

),

parts as (

    select * from subscription_fee_parts
    union all
    select * from charge_parts
    union all
    select * from commitment_parts

),

due as (

    select parts.*
    from parts
    where parts.billing_at <= parts.as_of_at

),

parts_billed as (

    select
        due.*,
        finalized.invoice_id as billed_invoice_id

    from due
    left join finalized
        using (external_subscription_id, phase_index, period_index, charges_index, item_type)

)

select * from parts_billed
order by external_customer_id, billing_at, invoice_group, external_subscription_id, phase_index,
    period_index, charges_index, item_type
