-- One invoice per customer per billing instant and invoice group: every period part of a
-- customer billed at the same instant goes on one invoice (LAGO_RULES.md §6), even when all
-- its fees are zero; a termination's parts go on an invoice of their own.
-- invoice_id is derived from the customer and the instant, so every run names the same
-- invoice the same way; should a finalized invoice already hold that customer and instant
-- (a part added to the catalog after its period closed), the new invoice gets the next id.
-- One-off invoices (int_one_off_invoices) are invoices of their own, invoice_group 'one_off',
-- and so is each supplementary invoice of an approved re-rating (int_fees_rerate), invoice_group
-- 'rerate', pointing to the invoice it corrects (corrects_invoice_id).
-- `finalizes`: whether this close finalizes it (its grace period is over, or it was approved);
-- otherwise it is a draft, recomputed by every close until then.
with

items as (

    select * from {{ ref('int_billing_items') }}

),

finalized as (

    {{ finalized_invoice_headers() }}

),

keys as (

    select
        external_customer_id,
        billing_at,
        invoice_group,
        any_value(currency) as currency,
        any_value(timezone) as timezone

    from items
    group by external_customer_id, billing_at, invoice_group

),

issued_before as (

    select external_customer_id, billing_at, count(*) as invoices_issued
    from finalized
    where invoice_type <> 'one_off' and rerate_id is null
    group by external_customer_id, billing_at

),

named as (

    select
        md5(concat_ws('|', keys.external_customer_id, strftime(keys.billing_at at time zone 'UTC',
                                                               '%Y-%m-%dT%H:%M:%S.%f'),
                      nullif(keys.invoice_group, 'periodic'),
                      coalesce(issued_before.invoices_issued, 0))) as invoice_id,
        keys.*

    from keys
    left join issued_before using (external_customer_id, billing_at)

),

one_offs as (

    select
        invoice_id,
        external_customer_id,
        billing_at,
        'one_off' as invoice_group,
        currency,
        timezone

    from {{ ref('int_one_off_invoices') }}

),

rerates as (

    select distinct
        invoice_id,
        external_customer_id,
        billing_at,
        'rerate' as invoice_group,
        currency,
        timezone,
        corrects_invoice_id,
        rerate_id

    from {{ ref('int_fees_rerate') }}

),

keyed as (

    select * from named
    union all
    select * from one_offs
    union all by name
    select * from rerates

),

customers as (

    select external_customer_id, invoice_grace_period
    from {{ ref('stg_catalog__customers') }}

),

approvals as (

    select * from {{ ref('stg_ledger__approvals') }}

),

-- When each invoice may be finalized (LAGO_RULES.md §17): a subscription invoice stays a
-- draft for the customer's grace period (else the organization's; 0: at once), unless an
-- approval covering its local billing day comes first; a one-off invoice, and a supplementary
-- invoice (its re-rating was approved), is final at once.
approved as (

    -- the first approval covering each invoice's local billing day
    select keyed.invoice_id, min(approvals.approved_at) as approved_at
    from keyed
    inner join approvals
        on {{ local_date('keyed.billing_at', 'keyed.timezone') }}
            between approvals.first_day and approvals.last_day
        and (approvals.external_customer_id is null
            or approvals.external_customer_id = keyed.external_customer_id)
    group by keyed.invoice_id

),

timed as (

    select
        keyed.*,
        case
            when keyed.invoice_group in ('one_off', 'rerate') then keyed.billing_at
            when approved.approved_at is not null then least(
                keyed.billing_at + to_days(cast(customers.invoice_grace_period as integer)),
                greatest(approved.approved_at, keyed.billing_at))
            else keyed.billing_at
                + to_days(cast(coalesce(customers.invoice_grace_period, 0) as integer))
        end as finalizes_at

    from keyed
    left join customers using (external_customer_id)
    left join approved using (invoice_id)

)

select
    *,
    finalizes_at <= {{ close_instant('timezone') }} as finalizes

from timed
