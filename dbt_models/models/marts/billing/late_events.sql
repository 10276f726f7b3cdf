{{ config(materialized='view') }}

-- Late usage: each billable event of a period already on a finalized invoice that landed
-- after the invoice was frozen. The invoice does not change (a correction is a credit note or
-- a new invoice: re-rating); these are shown in the review report and counted as 'late' in
-- event_reconciliation.
with

placed as (

    select * from {{ ref('int_events_placed') }}
    where placement = 'late'
        -- a late event landed after the invoice billing its period froze, so after the
        -- first one frozen: the rows landed before are skipped unplaced (on 10M events
        -- every read of this view placed them all, ~0.2-0.5 s)
        and landing_seq > (select min(landed_through_seq) from {{ ref('finalized_invoices') }})

),

events as (

    select events.landing_seq, events.transaction_id, events.file_row_number,
        event_files.path as landed_file
    from {{ ref('stg_usage__events') }} as events
    left join {{ source('landing', 'event_files') }} as event_files using (file_index)

),

subscriptions as (

    select external_subscription_id, external_customer_id
    from {{ ref('stg_catalog__subscriptions') }}

)

select
    placed.landing_seq,
    events.transaction_id,
    subscriptions.external_customer_id,
    placed.external_subscription_id,
    placed.billable_metric_code,
    placed.event_at,
    placed.invoice_id,
    placed.invoice_number,
    events.landed_file,
    events.file_row_number

from placed
inner join events using (landing_seq)
left join subscriptions using (external_subscription_id)
order by placed.landing_seq
