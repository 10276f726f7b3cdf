{{ config(materialized='table') }}

-- What is due by --as-of and not billed yet: one row per part of a billing period that an
-- invoice bills (int_billing_parts). Parts already on a finalized invoice are never billed
-- again (the ledger); a re-rating corrects them with credit notes and supplementary invoices
-- (int_rerate_scope), never by billing them again.
select * exclude (billed_invoice_id)
from {{ ref('int_billing_parts') }}
where billed_invoice_id is null
order by external_customer_id, billing_at, invoice_group, external_subscription_id, phase_index,
    period_index, charges_index, item_type
