{{ config(materialized='table') }}

-- Every fee a credit note may credit: the fees of the invoices finalized by earlier closes (the
-- ledger as the run began) and of the invoices this close finalizes (int_fees), with what a
-- credit note reads from its invoice: customer, currency, instant, issuing date and number
-- (null until the ledger numbers the invoice, at the end of this close). A fee's amount, its
-- coupon share and its tax rate are all known before credit notes are applied (they come
-- before them in Lago's order, LAGO_RULES.md §9), so credit notes never wait on the totals
-- they reduce.
with

finalized as (

    {{ finalized_invoice_fees() }}

),

current_fees as (

    select * from {{ ref('int_fees') }}

),

current_invoices as (

    select * from {{ ref('int_invoice_keys') }}

),

current as (

    select
        current_invoices.invoice_id,
        cast(null as varchar) as invoice_number,
        current_invoices.external_customer_id,
        current_invoices.currency,
        current_invoices.timezone,
        current_invoices.billing_at,
        {{ local_date('current_invoices.billing_at', 'current_invoices.timezone') }}
            as issuing_date,
        cast(null as bigint) as invoice_total_amount_cents,
        current_fees.fee_id,
        current_fees.fee_key,
        current_fees.fee_type,
        current_fees.external_subscription_id,
        current_fees.billable_metric_code,
        current_fees.amount_cents,
        cast(current_fees.precise_coupons_amount_cents as decimal(38, 5))
            as precise_coupons_amount_cents,
        cast(current_fees.taxes_rate as decimal(38, 12)) as taxes_rate

    from current_fees
    inner join current_invoices using (invoice_id)

),

final as (

    select *, true as is_finalized_before from finalized
    union all by name
    select *, false as is_finalized_before from current

)

select * from final
