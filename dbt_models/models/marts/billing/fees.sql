-- Fees (CONTRACT.md §4): one row per invoice line of every finalized invoice, as the ledger
-- froze it: subscription fees, charge fees (one per filter and pricing group, plus spending
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
order by invoice_id, fee_id
