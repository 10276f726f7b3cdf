with

source as (

    select * from {{ source('catalog', 'plans') }}

),

renamed as (

    select
        plan_code,
        name as plan_name,
        invoice_display_name,
        interval as plan_interval,
        amount_cents,
        currency,
        pay_in_advance,
        trial_period_days,
        bill_charges_monthly,
        minimum_commitment_amount_cents,
        minimum_commitment_display_name,
        -- the code as written in plans.yaml when this row derives from it (a later version of
        -- the plan, or a subscription's plan_overrides); null for the plan as written
        parent_plan_code,
        -- Lago compares plans by their yearly price to tell an upgrade from a downgrade.
        amount_cents * case interval
            when 'weekly' then 52
            when 'monthly' then 12
            when 'quarterly' then 4
            when 'semiannual' then 2
            when 'yearly' then 1
        end as yearly_amount_cents

    from source

)

select * from renamed
