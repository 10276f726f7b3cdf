{{ config(materialized='table') }}

-- Every fee due by --as-of and not billed yet, on its invoice (int_fees_placed), with its share
-- of the invoice's coupons (int_fee_coupons) and its taxes on the amount after coupons
-- (int_fee_taxes), in Lago's order (LAGO_RULES.md §9).
with

fees as (

    select * from {{ ref('int_fees_placed') }}

),

coupons as (

    select * from {{ ref('int_fee_coupons') }}

),

taxes as (

    select
        fee_key,
        sum(precise_taxes_amount_cents) as precise_taxes_amount_cents,
        cast(round(sum(precise_taxes_amount_cents), 0) as bigint) as taxes_amount_cents,
        sum(tax_rate) as taxes_rate

    from {{ ref('int_fee_taxes') }}
    group by fee_key

),

placed as (

    select
        fees.*,
        -- a usage fee's unit amount is its unrounded amount over its units (a prorated fee's
        -- full units), cut to whole minor units as Lago's integer column stores it
        -- (getlago/lago-api Fees::ChargeService#init_fee: unit_amount x subunit_to_unit into
        -- the bigint unit_amount_cents; its spec: 5 cents for 2 units -> 2); an add-on fee's
        -- unit amount is given (its unrounded amount is units x it); other fees: amount_cents
        -- over units, rounded
        case
            when fees.units = 0 then 0
            when fees.fee_type = 'charge' and not fees.is_true_up then cast(trunc(
                {{ divide('fees.precise_amount_cents', 'fees.units') }}) as bigint)
            when fees.fee_type = 'add_on' then cast(round({{ divide(
                'fees.precise_amount_cents', 'fees.units') }}, 0) as bigint)
            else cast(round({{ divide('fees.amount_cents', 'fees.units') }}, 0) as bigint)
        end as unit_amount_cents,
        -- the fee's share of the coupons, rounded on its own; the invoice's coupons amount is
        -- the sum of its coupon credits (int_invoice_coupons), which these add up to within
        -- a unit per fee
        cast(round(coalesce(coupons.precise_coupons_amount_cents, 0), 0) as bigint)
            as coupons_amount_cents,
        cast(coalesce(coupons.precise_coupons_amount_cents, 0) as decimal(38, 5))
            as precise_coupons_amount_cents,
        coalesce(taxes.taxes_amount_cents, 0) as taxes_amount_cents,
        coalesce(taxes.precise_taxes_amount_cents, 0) as precise_taxes_amount_cents,
        coalesce(taxes.taxes_rate, 0) as taxes_rate

    from fees
    left join coupons using (fee_key)
    left join taxes using (fee_key)

)

select * from placed
order by invoice_id, charge_position nulls first, fee_type desc, billable_metric_code,
    filter_position, group_key, is_true_up, fee_key
