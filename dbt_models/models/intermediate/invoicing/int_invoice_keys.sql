-- One invoice per customer per billing instant and invoice group: every period part of a
-- customer billed at the same instant goes on one invoice (LAGO_RULES.md §6), even when all
-- its fees are zero; a termination's parts go on an invoice of their own.
-- invoice_id is derived from the customer and the instant, so every run names the same
-- invoice the same way; should a finalized invoice already hold that customer and instant
-- (a part added to the catalog after its period closed), the new invoice gets the next id.
-- One-off invoices (int_one_off_invoices) are invoices of their own, invoice_group 'one_off'.
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
    where invoice_type <> 'one_off'
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

)

select * from named
union all
select * from one_offs
