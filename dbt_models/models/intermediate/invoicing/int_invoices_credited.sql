{{ config(materialized='table') }}

-- The invoices due with their prepaid credits, the last step of Lago's order (LAGO_RULES.md
-- §9 step 8): int_invoices_computed's totals (fees, coupons, taxes, credit notes), less what
-- the customer's wallets paid (int_invoice_prepaid_credits).
with

computed as (

    select * from {{ ref('int_invoices_computed') }}

),

prepaid as (

    select invoice_id, cast(sum(amount_cents) as bigint) as prepaid_credit_amount_cents
    from {{ ref('int_invoice_prepaid_credits') }}
    group by invoice_id

),

final as (

    select
        computed.* replace (
            computed.prepaid_credit_amount_cents
                + coalesce(prepaid.prepaid_credit_amount_cents, 0)
                as prepaid_credit_amount_cents,
            computed.total_amount_cents - coalesce(prepaid.prepaid_credit_amount_cents, 0)
                as total_amount_cents
        )

    from computed
    left join prepaid using (invoice_id)

)

select * from final
order by billing_at, external_customer_id, invoice_id
