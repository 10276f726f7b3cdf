with

source as (

    select * from {{ source('catalog', 'subscriptions') }}

),

renamed as (

    select
        external_subscription_id,
        external_customer_id,
        plan_code,
        name as subscription_name,
        subscription_at,
        started_at,
        billing_time,
        ending_at,
        terminated_at

    from source

)

select * from renamed
