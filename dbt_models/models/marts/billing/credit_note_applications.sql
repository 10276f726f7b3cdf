-- One row per credit note amount an invoice consumed (LAGO_RULES.md §12; Lago's credits of
-- a credit note on an invoice): which finalized invoice, which credit note, how much, read
-- from the ledger (finalized_invoices.applied_credit_notes), in the order they were consumed.
with

finalized as (

    select invoice_id, number, external_customer_id, billing_at, issuing_date, currency,
        applied_credit_notes
    from {{ ref('finalized_invoices') }}

),

credits as (

    select
        invoice_id, number, external_customer_id, billing_at, issuing_date, currency,
        unnest(applied_credit_notes) as credit,
        unnest(range(1, len(applied_credit_notes) + 1)) as position
    from finalized

),

issued as (

    select credit_note_id, number from {{ ref('issued_credit_notes') }}

),

final as (

    select
        credits.invoice_id,
        credits.number as invoice_number,
        credits.external_customer_id,
        credits.billing_at,
        credits.issuing_date,
        credits.position,
        credits.credit.credit_note_id as credit_note_id,
        issued.number as credit_note_number,
        credits.credit.amount_cents as amount_cents,
        credits.currency

    from credits
    left join issued on issued.credit_note_id = credits.credit.credit_note_id

)

select * from final
order by billing_at, external_customer_id, position
