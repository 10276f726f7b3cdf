{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
) }}

-- Credit notes (CONTRACT.md §4), append-only like the invoices they credit: a credit note is
-- issued once and never changed.
--
-- So far: the automatic credit note of a termination or an upgrade (LAGO_RULES.md §8 and §12;
-- getlago/lago-api CreditNotes::CreateFromTermination). A pay-in-advance subscription fee
-- paid the whole period; when the subscription is terminated or upgraded inside it, the
-- unused days are credited: days from the termination's local end of day, read as a UTC date
-- as Lago reads it, to the period's last day; the termination day counts as used, an
-- upgrade's day as unused. The amount is
-- plan amount x unused days / period days (exact, truncated to 5 decimals), never more than
-- the fee; taxes at the fee's rate on the amount less its coupon share; the credit note's
-- total is round(subtotal) + round(taxes), as Lago forces it. Reason order_cancellation,
-- credited to the customer's balance (Lago's default, on_termination: credit).
with

periods as (

    select * from {{ ref('int_billing_periods') }}

),

terminations as (

    select
        periods.*,
        -- an upgrade's day counts as unused (it belongs to the new plan)
        cast(timezone('UTC', {{ local_midnight(
            local_date('periods.phase_ended_at', 'periods.timezone') ~ ' + 1',
            'periods.timezone') }} - interval 1 microsecond) as date)
            - case when periods.end_reason = 'upgrade' then 1 else 0 end as used_through_date,
        cast(timezone('UTC', periods.trial_ends_at) as date) as trial_end_date

    from periods
    where periods.end_reason in ('terminated', 'upgrade')
        and periods.is_last_period
        and periods.pay_in_advance
        and periods.closes_at <= periods.as_of_at

),

billed_fees as (

    select invoice_id, number as invoice_number, fee
    from (
        select invoice_id, number, unnest(fees, recursive := false) as fee
        from {{ ref('finalized_invoices') }}
    )
    where fee.fee_type = 'subscription' and fee.amount_cents > 0

),

unused as (

    select
        terminations.*,
        billed_fees.invoice_id,
        billed_fees.invoice_number,
        billed_fees.fee.fee_id as fee_id,
        billed_fees.fee.amount_cents as fee_amount_cents,
        billed_fees.fee.coupons_amount_cents as fee_coupons_amount_cents,
        billed_fees.fee.taxes_rate as taxes_rate,
        greatest(date_diff('day',
            case
                when terminations.trial_end_date >= terminations.used_through_date
                    then least(terminations.trial_end_date - 1, terminations.period_end_date)
                else terminations.used_through_date
            end, terminations.period_end_date), 0) as unused_days

    from terminations
    inner join billed_fees
        on billed_fees.fee.fee_key = md5(concat_ws('|', 'subscription',
            terminations.external_subscription_id, terminations.phase_index,
            terminations.period_index))

),

items as (

    select
        *,
        cast(trunc(least(
            {{ divide('plan_amount_cents * unused_days', 'period_days') }},
            cast(fee_amount_cents as decimal(38, 12))), 5) as decimal(38, 5))
            as item_precise_amount_cents

    from unused
    where unused_days > 0

),

taxed as (

    select
        *,
        cast(case when fee_amount_cents = 0 then 0 else
            {{ divide('fee_coupons_amount_cents * item_precise_amount_cents',
                      'fee_amount_cents') }} end as decimal(38, 5))
            as coupons_adjustment_precise_amount_cents

    from items

),

amounts as (

    select
        *,
        cast((item_precise_amount_cents - coupons_adjustment_precise_amount_cents)
             * taxes_rate / 100 as decimal(38, 5)) as precise_taxes_amount_cents

    from taxed

),

final as (

    select
        md5(concat_ws('|', 'termination', fee_id)) as credit_note_id,
        concat(invoice_number, '-CN001') as number,
        invoice_id,
        invoice_number,
        external_customer_id,
        external_subscription_id,
        case end_reason when 'upgrade' then 'order_change' else 'order_cancellation' end
            as reason,
        'available' as credit_status,
        currency,
        phase_ended_at as created_at,
        {{ local_date('phase_ended_at', 'timezone') }} as issuing_date,
        fee_id,
        unused_days,
        item_precise_amount_cents,
        cast(round(item_precise_amount_cents, 0) as bigint) as item_amount_cents,
        cast(round(coupons_adjustment_precise_amount_cents, 0) as bigint)
            as coupons_adjustment_amount_cents,
        cast(round(item_precise_amount_cents - coupons_adjustment_precise_amount_cents, 0)
             as bigint) as sub_total_excluding_taxes_amount_cents,
        precise_taxes_amount_cents,
        cast(round(precise_taxes_amount_cents, 0) as bigint) as taxes_amount_cents

    from amounts

)

select
    *,
    sub_total_excluding_taxes_amount_cents + taxes_amount_cents as credit_amount_cents,
    cast(0 as bigint) as refund_amount_cents,
    sub_total_excluding_taxes_amount_cents + taxes_amount_cents as total_amount_cents,
    sub_total_excluding_taxes_amount_cents + taxes_amount_cents as balance_amount_cents

from final
{% if is_incremental() %}
where credit_note_id not in (select credit_note_id from {{ this }})
{% endif %}
order by created_at, external_customer_id, credit_note_id
