with

source as (

    select * from {{ source('catalog', 'charges') }}

),

renamed as (

    select
        charge_id,
        plan_code,
        position as charge_position,
        billable_metric_code,
        charge_model,
        pay_in_advance,
        invoiceable,
        prorated,
        min_amount_cents,
        invoice_display_name

    from source

)

select * from renamed
