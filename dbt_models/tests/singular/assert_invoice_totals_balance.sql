-- Every invoice balances to the unit (CONTRACT.md §4, LAGO_RULES.md §9):
--   fees_amount_cents = sum of its fees' amount_cents
--   total = fees - coupons + taxes - credit notes - prepaid credits
-- Returns the invoices that do not.
{{ config(meta={'dagster': {'ref': {'name': 'invoices'}}}) }}

with

fee_sums as (

    select invoice_id, sum(amount_cents) as fees_sum, sum(coupons_amount_cents) as coupons_sum
    from {{ ref('fees') }}
    group by invoice_id

)

select
    invoices.invoice_id,
    invoices.number,
    invoices.fees_amount_cents,
    coalesce(fee_sums.fees_sum, 0) as fees_sum,
    invoices.total_amount_cents

from {{ ref('invoices') }} as invoices
left join fee_sums using (invoice_id)
where invoices.fees_amount_cents <> coalesce(fee_sums.fees_sum, 0)
    or invoices.coupons_amount_cents <> coalesce(fee_sums.coupons_sum, 0)
    or invoices.total_amount_cents <> invoices.fees_amount_cents - invoices.coupons_amount_cents
        + invoices.taxes_amount_cents - invoices.credit_notes_amount_cents
        - invoices.prepaid_credit_amount_cents
    or invoices.sub_total_excluding_taxes_amount_cents
        <> invoices.fees_amount_cents - invoices.coupons_amount_cents
