{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    schema='ledger',
) }}

-- The ledger of re-ratings: for each approved re-rating, every fee it compared, frozen as it
-- was issued: the original invoice and fee, the frozen and recomputed amounts, the difference
-- and the document that corrects it (a credit note, a supplementary invoice, or none).
-- Written by the close that issues them, after the invoice and credit note ledgers, and only
-- when every document it names is in them (a review gate that blocks finalization leaves the
-- re-rating open, to be issued by the next close). Append-only: a re-rating is settled once;
-- approving it again issues nothing. Changing this model's columns changes the ledger's
-- format: bump LEDGER_FORMAT in orchestration/lib/warehouse.py.
with

differences as (

    select * from {{ ref('int_rerate_differences') }}
    where status = 'approved'

),

invoices as (

    select invoice_id as document_id, number as document_number
    from {{ ref('finalized_invoices') }}

),

credit_notes as (

    select credit_note_id as document_id, number as document_number
    from {{ ref('issued_credit_notes') }}

),

documents as (

    select * from invoices
    union all
    select * from credit_notes

),

previous as (

    {% if is_incremental() %}
    select distinct rerate_id from {{ this }}
    {% else %}
    select cast(null as varchar) as rerate_id where false
    {% endif %}

),

documented as (

    select differences.*, documents.document_number
    from differences
    left join documents using (document_id)

),

complete as (

    -- a re-rating is settled when every document it issues is in the ledger
    select rerate_id
    from documented
    group by rerate_id
    having bool_and(document_id is null or document_number is not null)

),

final as (

    select
        rerate_id,
        first_day,
        last_day,
        requested_at,
        approved_at,
        external_customer_id,
        currency,
        invoice_id,
        invoice_number,
        fee_key,
        original_fee_id,
        fee_type,
        external_subscription_id,
        phase_index,
        period_index,
        charges_index,
        billable_metric_code,
        display_name,
        group_key,
        from_datetime,
        to_datetime,
        frozen_units,
        frozen_amount_cents,
        recomputed_units,
        recomputed_amount_cents,
        corrected_before_cents,
        difference_cents,
        action,
        document_id,
        document_number

    from documented
    semi join complete using (rerate_id)
    anti join previous using (rerate_id)

)

select * from final
order by rerate_id, external_customer_id, invoice_id, external_subscription_id, phase_index,
    period_index, charges_index, fee_type desc, fee_key
