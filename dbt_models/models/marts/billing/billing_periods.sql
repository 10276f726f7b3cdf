{{ config(materialized='table') }}

-- One row per subscription per billing period, up to the period holding --as-of: the
-- subscription period, the usage window, the customer's time zone, the days billed and the
-- subscription fee's proration factor. Finance queries it; grace periods and re-rating build
-- on it.
with

periods as (

    select * from {{ ref('int_billing_periods') }}

)

select
    external_subscription_id,
    external_customer_id,
    plan_code,
    phase_index,
    period_index,
    billing_time,
    plan_interval,
    timezone,
    currency,
    period_start_date,
    period_end_date,
    period_days,
    from_datetime,
    to_datetime,
    charges_from_datetime,
    charges_to_datetime,
    billed_days,
    fee_days,
    -- the share of the plan's amount the period's fee bills (1 for a whole period)
    cast({{ divide('fee_days', 'period_days') }} as decimal(38, 12)) as fee_proration_factor,
    trial_ends_at,
    opens_at,
    closes_at,
    case when closes_at <= as_of_at then 'closed' else 'open' end as period_status,
    end_reason

from periods
