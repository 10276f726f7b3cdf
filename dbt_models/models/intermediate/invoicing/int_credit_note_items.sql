{{ config(materialized='table') }}

-- The items of every credit note issued by --as-of, each crediting one fee of a finalized
-- invoice, with its share of the fee's coupons and its taxes (LAGO_RULES.md §12;
-- getlago/lago-api CreditNotes::CreateService, CreditNotes::ApplyTaxesService):
--
--   coupon share = fee's precise coupons x item / fee amount (5 decimals);
--   taxes        = (item - coupon share) x the fee's tax rate / 100 (5 decimals), rounded
--                  once per credit note (int_credit_notes).
--
-- Two kinds of credit notes share this table and everything downstream:
--   * requested ones (credit_notes.yaml, int_credit_note_requests with status issued): each
--     item names a fee of the invoice by type, subscription and billable metric;
--   * the automatic credit note of a pay-in-advance subscription terminated or upgraded inside
--     a paid period (LAGO_RULES.md §8; getlago/lago-api CreditNotes::CreateFromTermination):
--     the unused days, from the termination's local end of day, read as a UTC date as Lago
--     reads it, to the period's last day; the termination day counts as used, an upgrade's day
--     as unused. Item = plan amount x unused days / period days, truncated to 5 decimals,
--     never more than the fee.
--   * the credit note of an approved re-rating (int_rerate_differences, action credit_note): one
--     item per fee it found over-billed, for the difference, on the original fee; kept from the
--     ledger (ledger.rerate_adjustments) once issued, so its balance carries on.
with

fees as (

    select * from {{ ref('int_creditable_fees') }}

),

periods as (

    select * from {{ ref('int_billing_periods') }}

),

requested_fees as (

    select * from {{ ref('int_credit_note_request_fees') }}

),

-- re-rating items: settled by earlier closes, or issued by this one
rerate_credits as (

    select rerate_id, document_id as credit_note_id, original_fee_id as fee_id, fee_key,
        difference_cents, approved_at as created_at
    from ({{ settled_rerate_adjustments() }})
    where action = 'credit_note'

    union all

    select rerate_id, document_id, original_fee_id, fee_key, difference_cents, approved_at
    from {{ ref('int_rerate_differences') }}
    where action = 'credit_note' and status = 'approved'

),

-- termination items
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

unused as (

    select
        fees.fee_id,
        fees.invoice_id,
        fees.amount_cents as fee_amount_cents,
        terminations.plan_amount_cents,
        terminations.period_days,
        terminations.phase_ended_at as created_at,
        case terminations.end_reason when 'upgrade' then 'order_change'
            else 'order_cancellation' end as reason,
        greatest(date_diff('day',
            case
                when terminations.trial_end_date >= terminations.used_through_date
                    then least(terminations.trial_end_date - 1, terminations.period_end_date)
                else terminations.used_through_date
            end, terminations.period_end_date), 0) as unused_days

    from terminations
    inner join fees
        on fees.fee_type = 'subscription'
        and fees.amount_cents > 0
        and fees.fee_key = md5(concat_ws('|', 'subscription',
            terminations.external_subscription_id, terminations.phase_index,
            terminations.period_index))

),

terminated as (

    select
        md5(concat_ws('|', 'termination', fee_id)) as credit_note_id,
        cast(0 as bigint) as item_index,
        fee_id,
        cast(trunc(least(
            {{ divide('plan_amount_cents * unused_days', 'period_days') }},
            cast(fee_amount_cents as decimal(38, 12))), 5) as decimal(38, 5))
            as precise_amount_cents,
        unused_days,
        created_at,
        reason

    from unused
    where unused_days > 0

),

items as (

    select credit_note_id, item_index, fee_id, precise_amount_cents, unused_days, created_at,
        reason, fees_matched, cast(null as varchar) as rerate_id
    from requested_fees
    -- an item naming no fee, or several, is refused by int_credit_note_checks
    where fees_matched = 1

    union all

    select credit_note_id, item_index, fee_id, precise_amount_cents, unused_days, created_at,
        reason, cast(1 as bigint) as fees_matched, cast(null as varchar) as rerate_id
    from terminated

    union all

    select
        credit_note_id,
        cast(row_number() over (partition by credit_note_id order by fee_key) - 1 as bigint)
            as item_index,
        fee_id,
        cast(-difference_cents as decimal(38, 5)) as precise_amount_cents,
        cast(null as bigint) as unused_days,
        created_at,
        'other' as reason,
        cast(1 as bigint) as fees_matched,
        rerate_id
    from rerate_credits

),

shares as (

    select
        items.*,
        fees.invoice_id,
        fees.fee_type,
        fees.external_subscription_id,
        fees.billable_metric_code,
        fees.amount_cents as fee_amount_cents,
        fees.precise_coupons_amount_cents as fee_precise_coupons_amount_cents,
        fees.taxes_rate,
        cast(case when fees.amount_cents = 0 then 0 else
            {{ divide('fees.precise_coupons_amount_cents * items.precise_amount_cents',
                      'fees.amount_cents') }} end as decimal(38, 5)) as coupon_share

    from items
    inner join fees using (fee_id)

),

final as (

    select
        credit_note_id,
        item_index,
        created_at,
        reason,
        rerate_id,
        fee_id,
        invoice_id,
        fee_type,
        external_subscription_id,
        billable_metric_code,
        fee_amount_cents,
        fee_precise_coupons_amount_cents,
        taxes_rate,
        unused_days,
        precise_amount_cents,
        cast(round(precise_amount_cents, 0) as bigint) as amount_cents,
        coupon_share as precise_coupons_amount_cents,
        cast((precise_amount_cents - coupon_share) * taxes_rate / 100 as decimal(38, 5))
            as precise_taxes_amount_cents

    from shares

)

select * from final
