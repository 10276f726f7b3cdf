{{ config(materialized='table') }}

-- The finalized period parts each open re-rating recomputes: one row per re-rating and part.
-- A re-rating (billing rerate --from D1 --to D2, stg_ledger__rerates) covers the subscription
-- fees and usage charges already billed whose service ends on a local day from D1 to D2 (a
-- subscription fee: the last day it billed; charges: their usage window's last day), of its
-- customer or of every customer. It is open from its request until the close that issues its
-- approved corrections records them (ledger.rerate_adjustments); then it is settled and not
-- recomputed again. Minimum commitment true-ups are not re-rated (docs/billing-rules.md).
with

rerates as (

    select
        rerate_id,
        requested_at,
        first_day,
        last_day,
        external_customer_id as rerate_customer_id,
        case when approved_at <= {{ as_of() }} then approved_at end as approved_at

    from {{ ref('stg_ledger__rerates') }}
    where requested_at <= {{ as_of() }}
        and rerate_id not in (select rerate_id from ({{ settled_rerate_adjustments() }}))

),

billed_parts as (

    select
        *,
        case item_type
            when 'charges' then {{ local_date('charges_to_datetime', 'timezone') }}
            else billed_to_date
        end as service_end_date

    from {{ ref('int_billing_parts') }}
    where billed_invoice_id is not null
        and item_type in ('subscription_fee', 'charges')

),

scoped as (

    select
        rerates.rerate_id,
        rerates.requested_at,
        rerates.approved_at,
        rerates.first_day,
        rerates.last_day,
        billed_parts.external_subscription_id,
        billed_parts.phase_index,
        billed_parts.period_index,
        billed_parts.charges_index,
        billed_parts.item_type,
        case billed_parts.item_type when 'charges' then 'charge' else 'subscription' end
            as fee_type,
        billed_parts.external_customer_id,
        billed_parts.currency,
        billed_parts.timezone,
        billed_parts.billed_invoice_id as invoice_id,
        billed_parts.service_end_date

    from rerates
    inner join billed_parts
        on billed_parts.service_end_date between rerates.first_day and rerates.last_day
        and (rerates.rerate_customer_id is null
            or rerates.rerate_customer_id = billed_parts.external_customer_id)

)

select * from scoped
order by rerate_id, external_customer_id, external_subscription_id, phase_index, period_index,
    charges_index, item_type
