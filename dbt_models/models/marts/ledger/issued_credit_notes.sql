{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    schema='ledger',
) }}

-- The ledger of credit notes: every credit note issued, frozen with its number, amounts and
-- items, never changed or deleted (a credit note, like an invoice, is issued once). What it
-- has left to credit changes as invoices consume it: that is in credit_notes, read from the
-- finalized invoices (applied_credit_notes). Changing this model's columns changes the ledger's
-- format: bump LEDGER_FORMAT in orchestration/lib/warehouse.py.
--
-- Numbers follow Lago's (CreditNote#ensure_number): the credited invoice's number, -CN and the
-- credit note's sequence on that invoice (%03d), continuing from the credit notes already
-- issued on it.
with

credit_notes as (

    select * from {{ ref('int_credit_notes') }}

),

items as (

    select * from {{ ref('int_credit_note_items') }}

),

invoices as (

    select invoice_id, number as invoice_number from {{ ref('finalized_invoices') }}

),

previous as (

    {% if is_incremental() %}
    select credit_note_id, invoice_id, sequence from {{ this }}
    {% else %}
    select
        cast(null as varchar) as credit_note_id,
        cast(null as varchar) as invoice_id,
        cast(null as bigint) as sequence
    where false
    {% endif %}

),

to_issue as (

    select * from credit_notes
    anti join previous using (credit_note_id)

),

numbered as (

    select
        to_issue.*,
        coalesce(issued.last_sequence, 0) + row_number() over (
            partition by to_issue.invoice_id
            order by to_issue.created_at, to_issue.credit_note_id) as sequence

    from to_issue
    left join (
        select invoice_id, max(sequence) as last_sequence
        from previous
        group by invoice_id
    ) as issued using (invoice_id)

),

item_lists as (

    select
        credit_note_id,
        list({
            'item_index': item_index,
            'fee_id': fee_id,
            'fee_type': fee_type,
            'external_subscription_id': external_subscription_id,
            'billable_metric_code': billable_metric_code,
            'fee_amount_cents': fee_amount_cents,
            'taxes_rate': taxes_rate,
            'unused_days': unused_days,
            'precise_amount_cents': precise_amount_cents,
            'amount_cents': amount_cents,
            'precise_coupons_amount_cents': precise_coupons_amount_cents,
            'precise_taxes_amount_cents': precise_taxes_amount_cents
        } order by item_index) as items

    from items
    group by credit_note_id

),

final as (

    select
        numbered.credit_note_id,
        invoices.invoice_number || '-CN' || printf('%03d', numbered.sequence) as number,
        numbered.sequence,
        numbered.origin,
        numbered.request_id,
        numbered.rerate_id,
        numbered.request_label,
        numbered.invoice_id,
        invoices.invoice_number,
        numbered.external_customer_id,
        numbered.external_subscription_id,
        numbered.reason,
        numbered.description,
        numbered.currency,
        numbered.timezone,
        numbered.created_at,
        numbered.issuing_date,
        numbered.items_precise_amount_cents,
        numbered.precise_coupons_adjustment_amount_cents,
        numbered.coupons_adjustment_amount_cents,
        numbered.sub_total_excluding_taxes_amount_cents,
        numbered.precise_taxes_amount_cents,
        numbered.taxes_amount_cents,
        numbered.taxes_rate,
        numbered.credit_amount_cents,
        numbered.refund_amount_cents,
        numbered.total_amount_cents,
        item_lists.items

    from numbered
    inner join invoices using (invoice_id)
    inner join item_lists using (credit_note_id)

)

select * from final
order by created_at, external_customer_id, credit_note_id
