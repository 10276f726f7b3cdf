-- One row per item of every credit note: the fee it credits, the amount credited before
-- coupons and taxes, its share of the fee's coupons and its taxes (LAGO_RULES.md §12).
with

issued as (

    select credit_note_id, number, invoice_id, currency, items
    from {{ ref('issued_credit_notes') }}

),

items as (

    select credit_note_id, number, invoice_id, currency, unnest(items) as item
    from issued

),

final as (

    select
        credit_note_id,
        number as credit_note_number,
        item.item_index,
        invoice_id,
        item.fee_id,
        item.fee_type,
        item.external_subscription_id,
        item.billable_metric_code,
        item.fee_amount_cents,
        item.taxes_rate,
        item.unused_days,
        item.precise_amount_cents,
        item.amount_cents,
        item.precise_coupons_amount_cents,
        item.precise_taxes_amount_cents,
        currency

    from items

)

select * from final
order by credit_note_id, item_index
