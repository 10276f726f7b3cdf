-- Subscription fees: the plan's amount for each period part due, prorated by days when the
-- subscription covers part of the period (LAGO_RULES.md §8): round(amount_cents x days /
-- period days), half away from zero, in exact decimal arithmetic. Days are local days from
-- the first billed day to the last, both included, after any trial; a pay-in-advance fee is
-- billed when the period opens (or its trial ends), for the days from then to the period end.
with

items as (

    select * from {{ ref('int_rated_items') }} where item_type = 'subscription_fee'

),

plans as (

    select * from {{ ref('stg_catalog__plans') }}

),

days as (

    select
        items.*,
        case
            when items.pay_in_advance
                then date_diff('day', items.fee_from_date, items.period_end_date) + 1
            else items.fee_days
        end as days_billed

    from items

),

fees as (

    select
        md5(concat_ws('|', 'subscription', days.external_subscription_id, days.phase_index,
                      days.period_index)) as fee_key,
        'subscription' as fee_type,
        days.external_subscription_id,
        days.phase_index,
        days.period_index,
        days.charges_index,
        days.external_customer_id,
        days.currency,
        days.plan_code,
        days.billing_at,
        days.is_rerate,
        plans.invoice_display_name as display_name,
        days.days_billed,
        days.period_days,
        cast(1 as decimal(38, 12)) as units,
        case
            when days.days_billed >= days.period_days then days.plan_amount_cents
            else cast(round({{ divide('days.plan_amount_cents * days.days_billed',
                                      'days.period_days') }}, 0) as bigint)
        end as amount_cents,
        cast(case
            when days.days_billed >= days.period_days then days.plan_amount_cents
            else {{ divide('days.plan_amount_cents * days.days_billed', 'days.period_days') }}
        end as decimal(38, 5)) as precise_amount_cents,
        days.from_datetime,
        case
            when days.pay_in_advance then days.period_boundary_at - interval 1 microsecond
            else days.to_datetime
        end as to_datetime

    from days
    inner join plans using (plan_code)

)

select * from fees
