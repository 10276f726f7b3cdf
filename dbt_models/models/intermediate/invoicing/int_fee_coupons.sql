-- Each fee's share of its invoice's coupons: precise_coupons_amount_cents (5 decimals), as the
-- last coupon step of the invoice left it (int_coupon_applications). Fees of invoices without
-- coupons have no row (their share is 0).
select
    invoice_id,
    -- two lists of one length, unnested side by side
    unnest(fee_keys) as fee_key,
    unnest(fee_coupons) as precise_coupons_amount_cents

from {{ ref('int_coupon_applications') }}
where last_of_invoice
