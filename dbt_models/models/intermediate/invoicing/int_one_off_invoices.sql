-- One-off invoices due by the close (close_instant) and not issued yet (LAGO_RULES.md §16): a one-off invoice
-- is issued at its `at` instant, once. Its invoice_id is derived from its one_off_invoice_id,
-- so every run names it the same way and one already in the ledger is never issued again.
with

one_offs as (

    select * from {{ ref('stg_catalog__one_off_invoices') }}

),

customers as (

    select * from {{ ref('stg_catalog__customers') }}

),

finalized as (

    {{ finalized_invoice_headers() }}

),

named as (

    select
        md5(concat_ws('|', 'one_off', one_offs.one_off_invoice_id)) as invoice_id,
        one_offs.one_off_invoice_id,
        one_offs.external_customer_id,
        one_offs.issued_at as billing_at,
        one_offs.currency,
        customers.timezone

    from one_offs
    inner join customers using (external_customer_id)
    where one_offs.issued_at <= {{ close_instant('customers.timezone') }}

)

select named.*
from named
anti join finalized using (invoice_id)
