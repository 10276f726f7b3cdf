-- Where each billable event stands against the ledger: 'billed' (its usage window is on a
-- finalized invoice, and it had landed when the invoice was frozen), 'late' (its window is on
-- a finalized invoice, but it landed after: late usage, shown for review, never silently
-- billed: a finalized invoice never changes) or 'pending' (its period is not closed yet).
with

billable as (

    select landing_seq, external_subscription_id, billable_metric_code, event_at
    from {{ ref('int_events_billable') }}

),

billed_periods as (

    -- Usage windows already on a finalized invoice, with what had landed when it was frozen.
    select
        periods.external_subscription_id,
        periods.window_from_datetime as charges_from_datetime,
        periods.window_to_datetime as charges_to_datetime,
        billed.invoice_id,
        billed.number,
        billed.landed_through_seq

    from {{ ref('int_charge_periods') }} as periods
    inner join (
        select invoice_id, number, landed_through_seq,
            unnest(billed_items, recursive := false) as item
        from {{ ref('finalized_invoices') }}
    ) as billed
        on periods.external_subscription_id = billed.item.external_subscription_id
        and periods.phase_index = billed.item.phase_index
        and periods.period_index = billed.item.period_index
        and periods.charges_index = billed.item.charges_index
        and billed.item.item_type = 'charges'

),

-- Each billed window until the next one of its subscription starts: an event falls in the
-- latest window started at or before it, billed if it is not past that window's end. An
-- equi-join with this range is one hash join (an ASOF join was slower on 10M events).
billed_spans as (

    select
        *,
        lead(charges_from_datetime) over (
            partition by external_subscription_id
            order by charges_from_datetime, charges_to_datetime
        ) as next_charges_from_datetime

    from (select distinct * from billed_periods)

),

placed as (

    select
        billable.landing_seq,
        billable.external_subscription_id,
        billable.billable_metric_code,
        billable.event_at,
        case
            when billed_spans.charges_to_datetime is null
                or billable.event_at > billed_spans.charges_to_datetime then 'pending'
            when billable.landing_seq <= billed_spans.landed_through_seq then 'billed'
            else 'late'
        end as placement,
        case when billable.event_at <= billed_spans.charges_to_datetime
            then billed_spans.invoice_id end as invoice_id,
        case when billable.event_at <= billed_spans.charges_to_datetime
            then billed_spans.number end as invoice_number

    from billable
    left join billed_spans
        on billable.external_subscription_id = billed_spans.external_subscription_id
        and billable.event_at >= billed_spans.charges_from_datetime
        and (billed_spans.next_charges_from_datetime is null
            or billable.event_at < billed_spans.next_charges_from_datetime)

)

select * from placed
