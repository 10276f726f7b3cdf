{{ config(materialized='table') }}

-- Each invoice due by --as-of, up to its subtotal including taxes (LAGO_RULES.md §9 steps 1-6):
-- its fees, its coupons (the sum of its coupon credits, §10) and its taxes on the fees after
-- coupons, rounded once over the invoice (§11). What comes after taxes (credit notes, prepaid
-- credits) reduces this amount: int_credit_note_applications reads it to consume the
-- customer's credit notes, int_invoices_computed adds them up to the total.
with

invoices as (

    select * from {{ ref('int_invoice_keys') }}

),

fees as (

    select * from {{ ref('int_fees') }}

),

fee_taxes as (

    select * from {{ ref('int_fee_taxes') }}

),

coupon_credits as (

    select * from {{ ref('int_invoice_coupons') }}

),

fee_totals as (

    select
        invoice_id,
        cast(sum(amount_cents) as bigint) as fees_amount_cents,
        min(from_datetime) as from_datetime,
        max(to_datetime) as to_datetime,
        count(*) as fees_count

    from fees
    group by invoice_id

),

coupon_totals as (

    -- the invoice's coupons: the sum of its coupon credits (LAGO_RULES.md §10)
    select invoice_id, cast(sum(amount_cents) as bigint) as coupons_amount_cents
    from coupon_credits
    group by invoice_id

),

tax_totals as (

    select
        fees.invoice_id,
        cast(round(sum(fee_taxes.precise_taxes_amount_cents), 0) as bigint) as taxes_amount_cents

    from fee_taxes
    inner join fees using (fee_key)
    group by fees.invoice_id

),

final as (

    select
        invoices.invoice_id,
        invoices.external_customer_id,
        invoices.currency,
        invoices.billing_at,
        fee_totals.from_datetime,
        fee_totals.to_datetime,
        coalesce(fee_totals.fees_count, 0) as fees_count,
        coalesce(fee_totals.fees_amount_cents, 0) as fees_amount_cents,
        coalesce(coupon_totals.coupons_amount_cents, 0) as coupons_amount_cents,
        coalesce(tax_totals.taxes_amount_cents, 0) as taxes_amount_cents,
        coalesce(fee_totals.fees_amount_cents, 0) - coalesce(coupon_totals.coupons_amount_cents, 0)
            + coalesce(tax_totals.taxes_amount_cents, 0) as sub_total_including_taxes_amount_cents

    from invoices
    left join fee_totals using (invoice_id)
    left join coupon_totals using (invoice_id)
    left join tax_totals using (invoice_id)

)

select * from final
