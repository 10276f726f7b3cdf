-- Every credit note balances to the unit (LAGO_RULES.md §12): total = credit + refund =
-- sub total + taxes; its items add up to it; invoices never consumed more than its credit.
-- Returns the credit notes that do not.
{{ config(meta={'dagster': {'ref': {'name': 'credit_notes'}}}) }}

with

item_sums as (

    select credit_note_id, sum(precise_amount_cents) as items_sum
    from {{ ref('credit_note_items') }}
    group by credit_note_id

)

select credit_notes.*
from {{ ref('credit_notes') }} as credit_notes
left join item_sums using (credit_note_id)
where credit_notes.total_amount_cents
        <> credit_notes.credit_amount_cents + credit_notes.refund_amount_cents
    or credit_notes.total_amount_cents <> credit_notes.sub_total_excluding_taxes_amount_cents
        + credit_notes.taxes_amount_cents
    or coalesce(item_sums.items_sum, -1) <> credit_notes.items_precise_amount_cents
    or credit_notes.balance_amount_cents < 0
    or credit_notes.credit_amount_cents < 0
    or credit_notes.refund_amount_cents < 0
