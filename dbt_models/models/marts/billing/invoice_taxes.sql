-- Taxes per invoice and rate: the base each tax applies to (the fees after coupons, rounded)
-- and its amount. Each line is rounded on its own; the invoice's taxes_amount_cents rounds
-- their unrounded sum once, as Lago does (LAGO_RULES.md §11), so lines may differ from it by
-- a unit.
select
    invoice_id,
    tax.tax_code,
    tax.tax_name,
    tax.tax_rate,
    tax.taxable_amount_cents,
    tax.amount_cents

from (
    select invoice_id, unnest(applied_taxes, recursive := false) as tax
    from {{ ref('finalized_invoices') }}
)
order by invoice_id, tax.tax_code
