-- Each coupon applied to a customer (applied_coupons.yaml), with the values in force (the
-- application's overrides, else the coupon's) and what the coupon is limited to. Lago applies
-- a customer's coupons in this order (LAGO_RULES.md §10): limited to billable metrics first,
-- then limited to plans, then unrestricted; inside a class by the date they were applied, and
-- for one date in the order of applied_coupons.yaml.
with

applied as (

    select * from {{ source('catalog', 'applied_coupons') }}

),

coupons as (

    select * from {{ source('catalog', 'coupons') }}

),

final as (

    select
        applied.applied_coupon_id,
        applied.position,
        applied.external_customer_id,
        applied.coupon_code,
        applied.created_at,
        applied.coupon_type,
        applied.amount_cents,
        applied.amount_currency,
        applied.percentage_rate,
        applied.frequency,
        applied.frequency_duration,
        coupons.limitation,
        case coupons.limitation
            when 'billable_metrics' then 1
            when 'plans' then 2
            else 3
        end as limitation_rank

    from applied
    inner join coupons using (coupon_code)

)

select * from final
