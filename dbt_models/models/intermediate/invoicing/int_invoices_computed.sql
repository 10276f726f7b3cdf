{{ config(materialized='table') }}

-- Every invoice due by --as-of and not finalized yet, with its totals, in Lago's order
-- (LAGO_RULES.md §9): fees, less coupons (§10), plus taxes on the fees after coupons (rounded
-- once over the invoice, §11),
-- less credit notes and prepaid credits.
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

customers as (

    select * from {{ ref('stg_catalog__customers') }}

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

totals as (

    select
        invoices.invoice_id,
        invoices.external_customer_id,
        -- a one-off invoice (LAGO_RULES.md §16) takes no coupon, credit note or prepaid credit
        case invoices.invoice_group when 'one_off' then 'one_off' else 'subscription' end
            as invoice_type,
        invoices.currency,
        invoices.timezone,
        invoices.billing_at,
        invoices.finalizes,
        invoices.finalizes_at,
        case when invoices.finalizes then 'finalized' else 'draft' end as status,
        -- issued when finalized: at billing without a grace period, else when the grace
        -- period ends or an approval comes (a draft shows the date it is expected)
        {{ local_date('invoices.finalizes_at', 'invoices.timezone') }} as issuing_date,
        customers.net_payment_term,
        customers.invoice_grace_period,
        fee_totals.from_datetime,
        fee_totals.to_datetime,
        coalesce(fee_totals.fees_count, 0) as fees_count,
        coalesce(fee_totals.fees_amount_cents, 0) as fees_amount_cents,
        coalesce(coupon_totals.coupons_amount_cents, 0) as coupons_amount_cents,
        coalesce(tax_totals.taxes_amount_cents, 0) as taxes_amount_cents,
        cast(0 as bigint) as credit_notes_amount_cents,
        -- prepaid credits come last in Lago's order and are applied after this model, on its
        -- total (int_wallet_applications, int_invoices_credited): 0 here
        cast(0 as bigint) as prepaid_credit_amount_cents

    from invoices
    inner join customers using (external_customer_id)
    left join fee_totals using (invoice_id)
    left join coupon_totals using (invoice_id)
    left join tax_totals using (invoice_id)

),

final as (

    select
        *,
        cast(issuing_date + cast(net_payment_term as integer) as date) as payment_due_date,
        fees_amount_cents - coupons_amount_cents as sub_total_excluding_taxes_amount_cents,
        fees_amount_cents - coupons_amount_cents + taxes_amount_cents
            as sub_total_including_taxes_amount_cents,
        fees_amount_cents - coupons_amount_cents + taxes_amount_cents
            - credit_notes_amount_cents - prepaid_credit_amount_cents as total_amount_cents

    from totals

)

select * from final
order by billing_at, external_customer_id, invoice_id
