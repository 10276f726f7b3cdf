{{ config(materialized='table') }}

-- Every fee due by --as-of and not billed yet, with the invoice it goes on and its taxes.
-- Fees of one customer billed at the same instant share one invoice.
with

fees as (

    select * from {{ ref('int_fees_due') }}

),

invoices as (

    select * from {{ ref('int_invoice_keys') }}

),

items as (

    select
        external_subscription_id,
        phase_index,
        period_index,
        charges_index,
        case item_type when 'subscription_fee' then 'subscription' else 'charge' end as fee_type,
        invoice_group

    from {{ ref('int_billing_items') }}

),

taxes as (

    select
        fee_key,
        sum(precise_taxes_amount_cents) as precise_taxes_amount_cents,
        cast(round(sum(precise_taxes_amount_cents), 0) as bigint) as taxes_amount_cents,
        sum(tax_rate) as taxes_rate

    from {{ ref('int_fee_taxes') }}
    group by fee_key

),

placed as (

    select
        md5(concat_ws('|', invoices.invoice_id, fees.fee_key)) as fee_id,
        invoices.invoice_id,
        fees.*,
        case when fees.units = 0 then 0
            else cast(round({{ divide('fees.amount_cents', 'fees.units') }}, 0) as bigint)
        end as unit_amount_cents,
        cast(0 as bigint) as coupons_amount_cents,
        coalesce(taxes.taxes_amount_cents, 0) as taxes_amount_cents,
        coalesce(taxes.precise_taxes_amount_cents, 0) as precise_taxes_amount_cents,
        coalesce(taxes.taxes_rate, 0) as taxes_rate

    from fees
    inner join items
        using (external_subscription_id, phase_index, period_index, charges_index, fee_type)
    inner join invoices using (external_customer_id, billing_at, invoice_group)
    left join taxes using (fee_key)

)

select * from placed
order by invoice_id, charge_position nulls first, fee_type desc, billable_metric_code,
    filter_position, group_key, is_true_up, fee_key
