{{ config(materialized='table') }}

-- The fee each item of an issued credit note request names on the credited invoice: by fee
-- type, subscription and billable metric (Lago names it by fee id). One row per item and fee
-- matched; fees_matched tells an item naming no fee (0) or several (a charge with filters or
-- pricing groups), which int_credit_note_checks refuses.
with

requests as (

    select * from {{ ref('int_credit_note_requests') }}
    where status = 'issued'

),

request_items as (

    select * from {{ ref('stg_catalog__credit_note_request_items') }}

),

fees as (

    select * from {{ ref('int_creditable_fees') }}

),

requested as (

    select
        md5(concat_ws('|', 'request', requests.request_id)) as credit_note_id,
        requests.request_id,
        request_items.item_index,
        requests.invoice_id,
        request_items.fee_type,
        request_items.external_subscription_id,
        request_items.billable_metric_code,
        cast(request_items.amount_cents as decimal(38, 5)) as precise_amount_cents,
        cast(null as integer) as unused_days,
        requests.requested_at as created_at,
        requests.reason

    from requests
    inner join request_items using (request_id)

),

final as (

    select
        requested.*,
        count(fees.fee_id) over (partition by requested.credit_note_id, requested.item_index)
            as fees_matched,
        fees.fee_id

    from requested
    left join fees
        on fees.invoice_id = requested.invoice_id
        and fees.fee_type = requested.fee_type
        and fees.external_subscription_id = requested.external_subscription_id
        and fees.billable_metric_code is not distinct from requested.billable_metric_code

)

select * from final
