-- Credit notes (CONTRACT.md §4): every credit note issued, as the ledger froze it
-- (ledger.issued_credit_notes), with what its credit has given to invoices so far and what is
-- left (LAGO_RULES.md §12): the credit is consumed by the customer's next invoices, after
-- taxes and before prepaid credits (int_credit_note_applications); the refund is paid back.
-- Requested credit notes (credit_notes.yaml) and the automatic credit notes of terminated or
-- upgraded pay-in-advance subscriptions are both here, told apart by `origin`.
with

issued as (

    select * from {{ ref('issued_credit_notes') }}

),

applications as (

    select * from {{ ref('credit_note_applications') }}

),

consumed as (

    select
        credit_note_id,
        cast(sum(amount_cents) as bigint) as consumed_amount_cents,
        count(*) as invoices_credited

    from applications
    group by credit_note_id

),

final as (

    select
        issued.credit_note_id,
        issued.number,
        issued.origin,
        issued.rerate_id,
        issued.invoice_id,
        issued.invoice_number,
        issued.external_customer_id,
        issued.external_subscription_id,
        issued.reason,
        issued.description,
        case
            when issued.credit_amount_cents = 0 then null
            when issued.credit_amount_cents = coalesce(consumed.consumed_amount_cents, 0)
                then 'consumed'
            else 'available'
        end as credit_status,
        issued.currency,
        issued.created_at,
        issued.issuing_date,
        cast(len(issued.items) as bigint) as items_count,
        issued.items_precise_amount_cents,
        issued.precise_coupons_adjustment_amount_cents,
        issued.coupons_adjustment_amount_cents,
        issued.sub_total_excluding_taxes_amount_cents,
        issued.precise_taxes_amount_cents,
        issued.taxes_amount_cents,
        issued.credit_amount_cents,
        issued.refund_amount_cents,
        issued.total_amount_cents,
        coalesce(consumed.consumed_amount_cents, 0) as consumed_amount_cents,
        issued.credit_amount_cents - coalesce(consumed.consumed_amount_cents, 0)
            as balance_amount_cents,
        coalesce(consumed.invoices_credited, 0) as invoices_credited

    from issued
    left join consumed using (credit_note_id)

)

select * from final
order by created_at, external_customer_id, number
