-- The items of each requested credit note: the fee credited (named by its type, subscription
-- and billable metric) and the amount credited, before coupons and taxes.
with

source as (

    select * from {{ source('catalog', 'credit_note_request_items') }}

),

final as (

    select
        request_id,
        item_index,
        fee_type,
        external_subscription_id,
        billable_metric_code,
        amount_cents

    from source

)

select * from final
