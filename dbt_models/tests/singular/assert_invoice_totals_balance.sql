-- Every invoice balances to the unit (CONTRACT.md §4, LAGO_RULES.md §9):
--   fees_amount_cents = sum of its fees' amount_cents
--   coupons_amount_cents = sum of its coupon credits (invoice_coupons), and its fees' shares
--     of them (precise_coupons_amount_cents) add up to it within a unit
--   credit_notes_amount_cents = sum of the credit note amounts it consumed
--     (credit_note_applications)
--   total = fees - coupons + taxes - credit notes - prepaid credits
-- Returns the invoices that do not.
{{ config(meta={'dagster': {'ref': {'name': 'invoices'}}}) }}

with

fee_sums as (

    select
        invoice_id,
        sum(amount_cents) as fees_sum,
        sum(precise_coupons_amount_cents) as precise_coupons_sum

    from {{ ref('fees') }}
    group by invoice_id

),

coupon_sums as (

    select invoice_id, sum(amount_cents) as coupons_sum
    from {{ ref('invoice_coupons') }}
    group by invoice_id

),

credit_note_sums as (

    select invoice_id, sum(amount_cents) as credit_notes_sum
    from {{ ref('credit_note_applications') }}
    group by invoice_id

)

select
    invoices.invoice_id,
    invoices.number,
    invoices.fees_amount_cents,
    coalesce(fee_sums.fees_sum, 0) as fees_sum,
    invoices.coupons_amount_cents,
    coalesce(coupon_sums.coupons_sum, 0) as coupons_sum,
    invoices.total_amount_cents

from {{ ref('invoices') }} as invoices
left join fee_sums using (invoice_id)
left join coupon_sums using (invoice_id)
left join credit_note_sums using (invoice_id)
where invoices.credit_notes_amount_cents <> coalesce(credit_note_sums.credit_notes_sum, 0)
    or invoices.fees_amount_cents <> coalesce(fee_sums.fees_sum, 0)
    or invoices.coupons_amount_cents <> coalesce(coupon_sums.coupons_sum, 0)
    or abs(invoices.coupons_amount_cents - coalesce(fee_sums.precise_coupons_sum, 0)) >= 1
    or invoices.coupons_amount_cents > invoices.fees_amount_cents
    or invoices.total_amount_cents <> invoices.fees_amount_cents - invoices.coupons_amount_cents
        + invoices.taxes_amount_cents - invoices.credit_notes_amount_cents
        - invoices.prepaid_credit_amount_cents
    or invoices.sub_total_excluding_taxes_amount_cents
        <> invoices.fees_amount_cents - invoices.coupons_amount_cents
