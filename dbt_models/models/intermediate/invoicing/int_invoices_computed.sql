{{ config(materialized='table') }}

-- Every invoice due by --as-of and not finalized yet, with its totals, in Lago's order
-- (LAGO_RULES.md §9): fees, less coupons (§10), plus taxes on the fees after coupons (rounded
-- once over the invoice, §11),
-- less credit notes and prepaid credits.
with

invoices as (

    select * from {{ ref('int_invoice_keys') }}

),

subtotals as (

    -- fees, coupons and taxes (LAGO_RULES.md §9 steps 1-6)
    select * from {{ ref('int_invoice_subtotals') }}

),

credit_note_credits as (

    -- credit notes, after taxes (§12): what each invoice consumes of the customer's credit
    -- notes (int_credit_note_applications)
    select invoice_id, cast(sum(amount_cents) as bigint) as credit_notes_amount_cents
    from {{ ref('int_credit_note_applications') }}
    group by invoice_id

),

customers as (

    select * from {{ ref('stg_catalog__customers') }}

),

totals as (

    select
        invoices.invoice_id,
        invoices.external_customer_id,
        -- a one-off invoice (LAGO_RULES.md §16) takes no coupon, credit note or prepaid credit
        case invoices.invoice_group when 'one_off' then 'one_off' else 'subscription' end
            as invoice_type,
        invoices.currency,
        invoices.timezone,
        invoices.billing_at,
        invoices.finalizes,
        invoices.corrects_invoice_id,
        invoices.rerate_id,
        invoices.finalizes_at,
        case when invoices.finalizes then 'finalized' else 'draft' end as status,
        -- issued when finalized: at billing without a grace period, else when the grace
        -- period ends or an approval comes (a draft shows the date it is expected)
        {{ local_date('invoices.finalizes_at', 'invoices.timezone') }} as issuing_date,
        customers.net_payment_term,
        customers.invoice_grace_period,
        subtotals.from_datetime,
        subtotals.to_datetime,
        subtotals.fees_count,
        subtotals.fees_amount_cents,
        subtotals.coupons_amount_cents,
        subtotals.taxes_amount_cents,
        coalesce(credit_note_credits.credit_notes_amount_cents, 0) as credit_notes_amount_cents,
        -- prepaid credits come last in Lago's order and are applied after this model, on its
        -- total (int_wallet_applications, int_invoices_credited): 0 here
        cast(0 as bigint) as prepaid_credit_amount_cents

    from invoices
    inner join customers using (external_customer_id)
    inner join subtotals using (invoice_id)
    left join credit_note_credits using (invoice_id)

),

final as (

    select
        *,
        cast(issuing_date + cast(net_payment_term as integer) as date) as payment_due_date,
        fees_amount_cents - coupons_amount_cents as sub_total_excluding_taxes_amount_cents,
        fees_amount_cents - coupons_amount_cents + taxes_amount_cents
            as sub_total_including_taxes_amount_cents,
        fees_amount_cents - coupons_amount_cents + taxes_amount_cents
            - credit_notes_amount_cents - prepaid_credit_amount_cents as total_amount_cents

    from totals

)

select * from final
order by billing_at, external_customer_id, invoice_id
