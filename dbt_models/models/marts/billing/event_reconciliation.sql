-- Where every landed event went, as of this run: billed (in a period already invoiced),
-- pending (billable, in a period not closed yet), duplicate, or quarantined (by reason).
-- read = billed + pending + duplicates + quarantined (tests/assert_events_conserved).
with

landed as (

    select landing_seq from {{ ref('stg_usage__events') }}

),

rejected as (

    select outcome, reason from {{ ref('int_events_rejected') }}

),

billable as (

    select landing_seq, external_subscription_id, event_at
    from {{ ref('int_events_billable') }}

),

billed_periods as (

    -- Usage windows already on a finalized invoice.
    select
        periods.external_subscription_id,
        periods.window_from_datetime as charges_from_datetime,
        periods.window_to_datetime as charges_to_datetime

    from {{ ref('int_charge_periods') }} as periods
    inner join (
        select unnest(billed_items, recursive := false) as item
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
        billed_spans.charges_to_datetime is not null
            and billable.event_at <= billed_spans.charges_to_datetime as billed

    from billable
    left join billed_spans
        on billable.external_subscription_id = billed_spans.external_subscription_id
        and billable.event_at >= billed_spans.charges_from_datetime
        and (billed_spans.next_charges_from_datetime is null
            or billable.event_at < billed_spans.next_charges_from_datetime)

),

outcomes as (

    select 'read' as outcome, null as reason, count(*) as events from landed
    union all
    select case when billed then 'billed' else 'pending' end, null, count(*)
    from placed group by 1
    union all
    select outcome, reason, count(*) from rejected group by 1, 2

)

select outcome, reason, events
from outcomes
order by
    case outcome when 'read' then 0 when 'billed' then 1 when 'pending' then 2
        when 'duplicate' then 3 else 4 end,
    reason
