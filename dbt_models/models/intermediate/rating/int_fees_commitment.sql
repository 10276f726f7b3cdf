-- Minimum commitment true-ups (LAGO_RULES.md §15), as Lago's
-- Commitments::Minimum::CalculateTrueUpFeeService computes them, one per billing period of a
-- plan with a minimum commitment, billed when the period closes:
--
--   commitment = round(minimum_commitment x covered days / period days), half up: prorated
--                when the subscription covers part of the period (it started inside it, or
--                ended inside it), over the full period's days;
--   true-up    = commitment - Σ the period's subscription and charge fees (whichever invoice
--                billed them: an in-advance fee on the invoice that opened the period, the
--                monthly charges of a yearly plan on earlier invoices), only when positive.
--
-- A pay-in-advance plan's true-up is on the invoice of the next period's fee, which is billed
-- at the same instant as this period closes: Lago reconciles the previous period there, so no
-- commitment is billed with the first invoice.
with

items as (

    -- Days of the period the subscription covered, both ends included. Unlike its fee, an
    -- upgraded plan's commitment keeps the day of the upgrade (Lago counts from the period's
    -- first billed day to the upgrade instant: CalculateProratedCoefficientService).
    select
        *,
        date_diff('day', billed_from_date, billed_to_date) + 1 as commitment_days

    from {{ ref('int_billing_items') }}
    where item_type = 'commitment'

),

plans as (

    select * from {{ ref('stg_catalog__plans') }}

),

period_fees as (

    select external_subscription_id, phase_index, period_index, amount_cents,
        precise_amount_cents
    from {{ ref('int_fees_subscription') }}
    where not is_rerate  -- a re-rating's recomputation is not billed

    union all

    select external_subscription_id, phase_index, period_index, amount_cents,
        precise_amount_cents
    from {{ ref('int_fees_charge') }}
    where not is_rerate

    union all

    select external_subscription_id, phase_index, period_index, amount_cents,
        precise_amount_cents
    from ({{ finalized_period_fees() }})

),

period_totals as (

    select
        external_subscription_id,
        phase_index,
        period_index,
        sum(amount_cents) as fees_amount_cents,
        sum(precise_amount_cents) as fees_precise_amount_cents

    from period_fees
    group by external_subscription_id, phase_index, period_index

),

commitments as (

    select
        items.*,
        plans.minimum_commitment_display_name,
        case
            when items.commitment_days >= items.period_days
                then plans.minimum_commitment_amount_cents
            else cast(round({{ divide('plans.minimum_commitment_amount_cents'
                                      ' * items.commitment_days', 'items.period_days') }}, 0)
                      as bigint)
        end as commitment_amount_cents,
        coalesce(period_totals.fees_amount_cents, 0) as fees_amount_cents,
        coalesce(period_totals.fees_precise_amount_cents, 0) as fees_precise_amount_cents

    from items
    inner join plans using (plan_code)
    left join period_totals
        using (external_subscription_id, phase_index, period_index)

),

fees as (

    select
        md5(concat_ws('|', 'commitment', external_subscription_id, phase_index, period_index))
            as fee_key,
        'commitment' as fee_type,
        external_subscription_id,
        phase_index,
        period_index,
        charges_index,
        external_customer_id,
        currency,
        plan_code,
        billing_at,
        coalesce(minimum_commitment_display_name, 'Minimum commitment') as display_name,
        commitment_amount_cents,
        cast(1 as decimal(38, 12)) as units,
        cast(commitment_amount_cents - fees_amount_cents as bigint) as amount_cents,
        cast(greatest(commitment_amount_cents - fees_precise_amount_cents, 0) as decimal(38, 5))
            as precise_amount_cents,
        from_datetime,
        to_datetime

    from commitments
    where commitment_amount_cents > fees_amount_cents

)

select * from fees
