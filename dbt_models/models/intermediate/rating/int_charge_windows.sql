-- One row per in-arrears charge per billing-period part due: the usage window a charge fee
-- prices (LAGO_RULES.md §6: the charges period, from the exact start instant to the end of
-- the period or the termination).
--
-- A window of a billed part an open re-rating recomputes is marked is_rerate
-- (int_rated_items): it is priced like any other, and kept off invoices (int_fees_due).
--
-- A recurring metric's window reaches back to the subscription's first event
-- (`carries_over`): its usage is the state at the window's end, not the window's own events
-- (LAGO_RULES.md §3, docs/billing-rules.md "Recurring metrics"). A prorated charge on it
-- (`is_prorated`) prices each unit by the days it existed in the window.
with

items as (

    select * from {{ ref('int_rated_items') }} where item_type = 'charges'

),

charges as (

    select * from {{ ref('stg_catalog__charges') }} where not pay_in_advance

),

metrics as (

    select * from {{ ref('stg_catalog__billable_metrics') }}

),

filtered_charges as (

    select distinct charge_id
    from {{ ref('stg_catalog__charge_pricings') }}
    where not is_default_bucket

),

windows as (

    select
        md5(concat_ws('|', items.external_subscription_id, items.phase_index, items.period_index,
                      charges.charge_id, nullif(items.charges_index, 0))) as window_id,
        items.external_subscription_id,
        items.phase_index,
        items.period_index,
        items.charges_index,
        items.external_customer_id,
        items.currency,
        items.plan_code,
        items.billing_at,
        items.charges_from_datetime,
        items.charges_to_datetime,
        items.period_days,
        items.billed_days,
        items.timezone,
        items.is_rerate,
        charges.charge_id,
        charges.charge_position,
        charges.billable_metric_code,
        charges.charge_model,
        charges.prorated,
        charges.min_amount_cents,
        charges.invoice_display_name as charge_display_name,
        metrics.aggregation_type,
        metrics.name as billable_metric_name,
        metrics.rounding_function,
        metrics.rounding_precision,
        metrics.recurring,
        filtered_charges.charge_id is not null as has_filters,
        coalesce(metrics.recurring, false) as carries_over,
        coalesce(metrics.recurring, false) and coalesce(charges.prorated, false)
            and metrics.aggregation_type in ('sum_agg', 'unique_count_agg') as is_prorated

    from items
    inner join charges using (plan_code)
    inner join metrics using (billable_metric_code)
    left join filtered_charges using (charge_id)

)

-- window_key: the window as a small integer, for the one table with a row per event
-- (int_events_windowed) and the joins on it. A 32-character md5 text on each of 10M rows was
-- half of that table's write; the number is the window's rank by window_id, so the same
-- windows get the same keys however often this view is read.
select
    window_id,
    cast(row_number() over (order by window_id) as integer) as window_key,
    * exclude (window_id)

from windows
