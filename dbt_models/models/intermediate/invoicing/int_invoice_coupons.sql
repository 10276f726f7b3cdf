-- The coupon credits of the invoices due (Lago's credits with before_taxes): one row per
-- invoice and coupon applied to it, in the order they were applied (int_coupon_applications).
-- A coupon that applies but finds nothing left to take (a scoped base of 0) still counts as
-- applied, as Lago records a credit of 0 and counts it against a recurring coupon.
select
    invoice_id,
    external_customer_id,
    applied_coupon_id,
    coupon_code,
    step as position,
    base_amount_cents,
    amount_cents

from {{ ref('int_coupon_applications') }}
where applied
