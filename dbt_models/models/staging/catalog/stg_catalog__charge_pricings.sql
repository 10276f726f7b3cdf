with

source as (

    select * from {{ source('catalog', 'charge_pricings') }}

),

renamed as (

    select
        pricing_id,
        charge_id,
        filter_position,
        filter_position = 0 as is_default_bucket,
        invoice_display_name,
        amount,
        package_size,
        coalesce(free_units, 0) as free_units,
        rate,
        fixed_amount,
        free_units_per_events,
        free_units_per_total_aggregation,
        per_transaction_min_amount,
        per_transaction_max_amount,
        coalesce(pricing_group_keys, []) as pricing_group_keys

    from source

)

select * from renamed
