-- Add-on fees of the one-off invoices due (LAGO_RULES.md §16), as Lago's Fees::OneOffService
-- prices them: amount = units x unit amount (the fee's unit_amount_cents, else the add-on's
-- amount_cents), rounded half away from zero to the minor unit; precise_amount_cents keeps
-- the product. Taxes are chosen in int_fee_taxes (the fee's own tax codes first).
with

invoices as (

    select * from {{ ref('int_one_off_invoices') }}

),

one_off_fees as (

    select * from {{ ref('stg_catalog__one_off_fees') }}

),

fees as (

    select
        md5(concat_ws('|', 'add_on', one_off_fees.one_off_fee_id)) as fee_key,
        'add_on' as fee_type,
        invoices.invoice_id,
        one_off_fees.one_off_fee_id,
        one_off_fees.position,
        one_off_fees.add_on_code,
        invoices.external_customer_id,
        invoices.currency,
        invoices.billing_at,
        one_off_fees.display_name,
        one_off_fees.units,
        one_off_fees.unit_amount_cents,
        cast(round(one_off_fees.unit_amount_cents * one_off_fees.units, 0) as bigint)
            as amount_cents,
        cast(one_off_fees.unit_amount_cents * one_off_fees.units as decimal(38, 5))
            as precise_amount_cents,
        invoices.billing_at as from_datetime,
        invoices.billing_at as to_datetime

    from one_off_fees
    inner join invoices using (one_off_invoice_id)

)

select * from fees
