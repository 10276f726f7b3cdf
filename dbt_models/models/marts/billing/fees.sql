-- Fees (CONTRACT.md §4): one row per invoice line of every finalized invoice, as the ledger
-- froze it, and of every draft, as this close computed it: subscription fees, charge fees (one per filter and pricing group, plus spending
-- minimum true-ups), minimum commitment true-ups, and the add-on fees of one-off invoices.
with

finalized as (

    select invoice_id, external_customer_id, currency, billing_at, fees
    from {{ ref('finalized_invoices') }}

),

lines as (

    select
        invoice_id,
        external_customer_id,
        currency,
        billing_at,
        unnest(fees, recursive := false) as fee

    from finalized

),

final as (

    select
        fee.fee_id,
        invoice_id,
        fee.external_subscription_id,
        external_customer_id,
        fee.fee_type,
        fee.plan_code,
        fee.charge_id,
        fee.billable_metric_code,
        fee.billable_metric_name,
        fee.charge_model,
        fee.pricing_id,
        fee.filter_position,
        fee.display_name,
        fee.group_key,
        fee.is_true_up,
        fee.add_on_code,
        fee.units,
        fee.events_count,
        fee.unit_amount_cents,
        fee.amount_cents,
        fee.precise_amount_cents,
        fee.coupons_amount_cents,
        fee.precise_coupons_amount_cents,
        fee.taxes_amount_cents,
        fee.taxes_rate,
        currency,
        fee.from_datetime,
        fee.to_datetime

    from lines

)

select * from final
union all
-- the fees of drafts, as this close computed them
select
    fees.fee_id,
    fees.invoice_id,
    fees.external_subscription_id,
    fees.external_customer_id,
    fees.fee_type,
    fees.plan_code,
    fees.charge_id,
    fees.billable_metric_code,
    fees.billable_metric_name,
    fees.charge_model,
    fees.pricing_id,
    fees.filter_position,
    fees.display_name,
    fees.group_key,
    fees.is_true_up,
    fees.add_on_code,
    fees.units,
    fees.events_count,
    fees.unit_amount_cents,
    fees.amount_cents,
    fees.precise_amount_cents,
    fees.coupons_amount_cents,
    fees.precise_coupons_amount_cents,
    fees.taxes_amount_cents,
    fees.taxes_rate,
    fees.currency,
    fees.from_datetime,
    fees.to_datetime

from {{ ref('int_fees') }} as fees
inner join {{ ref('int_invoices_credited') }} as drafts using (invoice_id)
where not drafts.finalizes
order by invoice_id, fee_id
