-- The fees of supplementary invoices: what an approved re-rating found under-billed
-- (int_rerate_differences, action supplementary_invoice), one fee per fee it corrects, on one
-- invoice per re-rating and original invoice, billed at the approval's instant. Each fee keeps
-- its original's subscription, period, charge and display; its units are the recomputed ones
-- and its amount the difference. An invoice already in the ledger (its close was interrupted
-- after it was frozen) is not billed again.
with

differences as (

    select * from {{ ref('int_rerate_differences') }}
    where action = 'supplementary_invoice' and status = 'approved'

),

finalized as (

    {{ finalized_invoice_headers() }}

)

select
    md5(concat_ws('|', 'rerate', differences.rerate_id, differences.fee_key)) as fee_key,
    differences.document_id as invoice_id,
    differences.invoice_id as corrects_invoice_id,
    differences.rerate_id,
    differences.fee_type,
    differences.external_subscription_id,
    differences.phase_index,
    differences.period_index,
    differences.charges_index,
    differences.external_customer_id,
    differences.currency,
    differences.timezone,
    differences.plan_code,
    differences.approved_at as billing_at,
    differences.charge_id,
    coalesce(differences.charge_position, -1) as charge_position,
    differences.billable_metric_code,
    differences.billable_metric_name,
    differences.charge_model,
    differences.pricing_id,
    differences.filter_position,
    differences.display_name,
    differences.group_key,
    differences.is_true_up,
    coalesce(differences.recomputed_units, differences.frozen_units) as units,
    coalesce(differences.recomputed_events_count, 0) as events_count,
    differences.difference_cents as amount_cents,
    cast(differences.difference_cents as decimal(38, 5)) as precise_amount_cents,
    differences.from_datetime,
    differences.to_datetime

from differences
where differences.document_id not in (select invoice_id from finalized)
