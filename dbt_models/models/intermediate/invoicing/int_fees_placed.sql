-- Every fee due by --as-of and not billed yet, placed on its invoice: fees of one customer
-- billed at the same instant share one invoice (int_invoice_keys); an add-on fee goes on its
-- one-off invoice, a re-rating's fee on its supplementary invoice. Coupons and taxes are
-- added to this by int_fee_coupons, int_fee_taxes and int_fees.
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
        case item_type
            when 'subscription_fee' then 'subscription'
            when 'commitment' then 'commitment'
            else 'charge'
        end as fee_type,
        invoice_group

    from {{ ref('int_billing_items') }}

),

placed as (

    select
        md5(concat_ws('|', invoices.invoice_id, fees.fee_key)) as fee_id,
        invoices.invoice_id,
        fees.*

    from fees
    inner join items
        using (external_subscription_id, phase_index, period_index, charges_index, fee_type)
    inner join invoices using (external_customer_id, billing_at, invoice_group)

),

add_on_placed as (

    select
        md5(concat_ws('|', add_ons.invoice_id, fees.fee_key)) as fee_id,
        add_ons.invoice_id,
        fees.*

    from fees
    inner join {{ ref('int_fees_add_on') }} as add_ons using (fee_key)

),

rerate_placed as (

    select
        md5(concat_ws('|', rerates.invoice_id, fees.fee_key)) as fee_id,
        rerates.invoice_id,
        fees.*

    from fees
    inner join {{ ref('int_fees_rerate') }} as rerates using (fee_key)

)

select * from placed
union all
select * from add_on_placed
union all
select * from rerate_placed
