-- Invoices (CONTRACT.md §4): every finalized invoice as the ledger froze it. One row per
-- invoice; amounts are integers in the currency's minor unit, and
-- total = fees - coupons + taxes - credit notes - prepaid credits, to the unit.
with

finalized as (

    select * from {{ ref('finalized_invoices') }}

),

final as (

    select
        invoice_id,
        number,
        external_customer_id,
        invoice_type,
        status,
        currency,
        timezone,
        billing_at,
        finalized_at,
        issuing_date,
        payment_due_date,
        cast(net_payment_term as integer) as net_payment_term,
        from_datetime,
        to_datetime,
        fees_amount_cents,
        coupons_amount_cents,
        sub_total_excluding_taxes_amount_cents,
        taxes_amount_cents,
        sub_total_including_taxes_amount_cents,
        credit_notes_amount_cents,
        prepaid_credit_amount_cents,
        total_amount_cents,
        cast(len(fees) as bigint) as fees_count,
        catalog_version

    from finalized

)

select * from final
order by billing_at, external_customer_id, number
