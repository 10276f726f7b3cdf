-- Invoices (CONTRACT.md §4): every finalized invoice as the ledger froze it, and every draft
-- (an invoice in its grace period: no number yet, recomputed by each close until it is
-- finalized; no coupons or credits are applied to a draft). One row per invoice; amounts are
-- integers in the currency's minor unit, and
-- total = fees - coupons + taxes - credit notes - prepaid credits, to the unit. A re-rating's
-- supplementary invoice names the invoice it corrects (corrects_invoice_id) and its rerate_id.
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
        corrects_invoice_id,
        rerate_id,
        catalog_version

    from finalized

),

drafts as (

    select
        drafts.invoice_id,
        cast(null as varchar) as number,
        drafts.external_customer_id,
        drafts.invoice_type,
        'draft' as status,
        drafts.currency,
        drafts.timezone,
        drafts.billing_at,
        cast(null as timestamptz) as finalized_at,
        drafts.issuing_date,
        drafts.payment_due_date,
        cast(drafts.net_payment_term as integer) as net_payment_term,
        drafts.from_datetime,
        drafts.to_datetime,
        drafts.fees_amount_cents,
        drafts.coupons_amount_cents,
        drafts.sub_total_excluding_taxes_amount_cents,
        drafts.taxes_amount_cents,
        drafts.sub_total_including_taxes_amount_cents,
        drafts.credit_notes_amount_cents,
        drafts.prepaid_credit_amount_cents,
        drafts.total_amount_cents,
        cast(drafts.fees_count as bigint) as fees_count,
        drafts.corrects_invoice_id,
        drafts.rerate_id,
        organization.catalog_version

    from {{ ref('int_invoices_credited') }} as drafts
    cross join {{ ref('stg_catalog__organization') }} as organization
    where not drafts.finalizes

)

select * from final
union all
select * from drafts
order by billing_at, external_customer_id, number
