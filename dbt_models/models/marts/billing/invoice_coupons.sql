-- Coupons per invoice (LAGO_RULES.md §10): every coupon credit of every finalized invoice, as
-- the ledger froze it. The invoice's coupons_amount_cents is the sum of its rows.
select
    invoice_id,
    number,
    external_customer_id,
    currency,
    credit.applied_coupon_id,
    credit.coupon_code,
    cast(position as bigint) as position,
    credit.amount_cents

from (
    select
        invoice_id,
        number,
        external_customer_id,
        currency,
        unnest(applied_coupons, recursive := false) as credit,
        generate_subscripts(applied_coupons, 1) as position
    from {{ ref('finalized_invoices') }}
)
order by invoice_id, position
