-- Credit notes requested on finalized invoices (credit_notes.yaml), one row per request. The
-- invoice is named by its number, or by the customer and the day it was issued; `label` names
-- the request in messages as the catalog loader does.
with

source as (

    select * from {{ source('catalog', 'credit_note_requests') }}

),

final as (

    select
        request_id,
        position,
        label,
        invoice_number,
        external_customer_id,
        invoice_issuing_date,
        "at" as requested_at,
        reason,
        description,
        credit_amount_cents,
        refund_amount_cents

    from source

)

select * from final
