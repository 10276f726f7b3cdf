{{ config(materialized='table') }}

-- The review gates of a close: the rules that must hold before any invoice is finalized.
-- One row per rule, with how many rows break it and an example. finalized_invoices freezes
-- nothing while a gate fails; the review report names the failing rules.
--   events_conserved      every landed event is billable, a duplicate or quarantined
--   invoice_totals        fees = the sum of the invoice's fees, and
--                         total = fees - coupons + taxes - credit notes - prepaid credits
--   no_negative_amounts   no invoice amount (fees, coupons, taxes, credits, total) below zero
--   currency_minor_units  every invoice and fee is in a known currency, with amounts in its
--                         minor unit (integers; precise amounts round to them)
with

landed as (

    select count(*) as events from {{ ref('stg_usage__events') }}

),

billable as (

    select count(*) as events from {{ ref('int_events_billable') }}

),

rejected as (

    select count(*) as events from {{ ref('int_events_rejected') }}

),

invoices as (

    select * from {{ ref('int_invoices_credited') }}

),

fees as (

    select * from {{ ref('int_fees') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

fee_sums as (

    select invoice_id, sum(amount_cents) as fees_sum
    from fees
    group by invoice_id

),

events_conserved as (

    select
        'events_conserved' as rule,
        case when landed.events = billable.events + rejected.events then 0 else 1 end
            as failures,
        case when landed.events <> billable.events + rejected.events then
            landed.events || ' events read, ' || billable.events || ' billable + '
            || rejected.events || ' duplicate or quarantined'
        end as example

    from landed, billable, rejected

),

invoice_totals as (

    select
        'invoice_totals' as rule,
        count(*) as failures,
        min(invoices.invoice_id) as example

    from invoices
    left join fee_sums using (invoice_id)
    where invoices.fees_amount_cents <> coalesce(fee_sums.fees_sum, 0)
        or invoices.total_amount_cents <> invoices.fees_amount_cents
            - invoices.coupons_amount_cents + invoices.taxes_amount_cents
            - invoices.credit_notes_amount_cents - invoices.prepaid_credit_amount_cents

),

no_negative_amounts as (

    select
        'no_negative_amounts' as rule,
        count(*) as failures,
        min(external_customer_id || ': total ' || total_amount_cents || ' ' || currency)
            as example

    from invoices
    where least(fees_amount_cents, coupons_amount_cents, taxes_amount_cents,
                credit_notes_amount_cents, prepaid_credit_amount_cents, total_amount_cents) < 0

),

currency_minor_units as (

    select
        'currency_minor_units' as rule,
        count(*) as failures,
        min(what) as example

    from (
        select 'invoice ' || invoice_id || ' in ' || currency as what
        from invoices anti join currencies using (currency)
        union all
        select 'fee ' || fees.fee_key || ' in ' || fees.currency
        from fees anti join currencies using (currency)
        union all
        select 'fee ' || fees.fee_key || ': ' || fees.precise_amount_cents || ' is not '
            || fees.amount_cents || ' in minor units'
        from fees
        where abs(fees.precise_amount_cents - fees.amount_cents) >= 1
    )

)

select * from events_conserved
union all select * from invoice_totals
union all select * from no_negative_amounts
union all select * from currency_minor_units
