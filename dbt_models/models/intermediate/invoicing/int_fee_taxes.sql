-- The taxes of each fee: the tax codes of the first level that has any, in Lago's order
-- (LAGO_RULES.md §11, Fees::ApplyTaxesService): a one-off fee's own tax codes, the add-on's
-- (add-on fees), the charge's (charge fees and their true-ups), the minimum commitment's
-- (commitment fees), the plan's (subscription, charge and commitment fees), the
-- customer's, the organization's. Levels do not stack; the taxes of the chosen level add up.
-- Each tax is computed on the fee after its coupons (amount_cents - precise_coupons_amount_cents,
-- LAGO_RULES.md §9 step 5), unrounded here: the fee and the invoice each round their own total.
with

fees as (

    select
        fees.* exclude (amount_cents),
        fees.amount_cents - coalesce(coupons.precise_coupons_amount_cents, 0) as amount_cents

    from {{ ref('int_fees_due') }} as fees
    left join {{ ref('int_fee_coupons') }} as coupons using (fee_key)

),

applied as (

    select * from {{ ref('stg_catalog__applied_taxes') }}

),

taxes as (

    select * from {{ ref('stg_catalog__taxes') }}

),

candidates as (

    select fees.fee_key, fees.amount_cents, 0 as level, applied.tax_code
    from fees
    inner join {{ ref('int_fees_add_on') }} as add_ons using (fee_key)
    inner join applied
        on applied.owner_type = 'one_off_fee' and applied.owner_id = add_ons.one_off_fee_id

    union all

    select fees.fee_key, fees.amount_cents, 1 as level, applied.tax_code
    from fees
    inner join applied
        on applied.owner_type = 'add_on' and applied.owner_id = fees.add_on_code
        and fees.fee_type = 'add_on'

    union all

    select fees.fee_key, fees.amount_cents, 1 as level, applied.tax_code
    from fees
    inner join applied
        on applied.owner_type = 'charge' and applied.owner_id = fees.charge_id

    union all

    select fees.fee_key, fees.amount_cents, 1 as level, applied.tax_code
    from fees
    inner join applied
        on applied.owner_type = 'minimum_commitment' and applied.owner_id = fees.plan_code
        and fees.fee_type = 'commitment'

    union all

    select fees.fee_key, fees.amount_cents, 2 as level, applied.tax_code
    from fees
    inner join applied
        on applied.owner_type = 'plan' and applied.owner_id = fees.plan_code

    union all

    select fees.fee_key, fees.amount_cents, 3 as level, applied.tax_code
    from fees
    inner join applied
        on applied.owner_type = 'customer' and applied.owner_id = fees.external_customer_id

    union all

    select fees.fee_key, fees.amount_cents, 4 as level, applied.tax_code
    from fees
    inner join applied on applied.owner_type = 'organization'

),

chosen as (

    select *
    from candidates
    qualify level = min(level) over (partition by fee_key)

)

select
    chosen.fee_key,
    chosen.tax_code,
    taxes.name as tax_name,
    taxes.rate as tax_rate,
    -- the fee after coupons (5 decimals): the base of the tax
    cast(chosen.amount_cents as decimal(38, 5)) as taxable_amount_cents,
    cast(chosen.amount_cents * taxes.rate * cast(0.01 as decimal(3, 2)) as decimal(38, 12))
        as precise_taxes_amount_cents

from chosen
inner join taxes using (tax_code)
