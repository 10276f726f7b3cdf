-- Every wallet balances to the unit (LAGO_RULES.md §13): after each transaction, the wallet's
-- balance is the sum of its transactions up to then, and never negative; a wallet's balance
-- is the sum of all its transactions; an invoice's prepaid credits are the sum of the
-- credits it took from wallets, never more than its total before them. Returns what does not.
{{ config(meta={'dagster': {'ref': {'name': 'wallet_transactions'}}}) }}

with

running as (

    select
        wallet_id,
        wallet_transaction_id as what,
        balance_after_cents as recorded,
        sum(signed_amount_cents) over (
            partition by wallet_id order by sequence
            rows between unbounded preceding and current row) as derived

    from {{ ref('wallet_transactions') }}

),

per_wallet as (

    select
        wallets.wallet_id,
        'wallet' as what,
        wallets.balance_cents as recorded,
        coalesce(sum(transactions.signed_amount_cents), 0) as derived

    from {{ ref('wallets') }} as wallets
    left join {{ ref('wallet_transactions') }} as transactions using (wallet_id)
    group by wallets.wallet_id, wallets.balance_cents

),

per_invoice as (

    select
        invoices.invoice_id as wallet_id,
        'invoice ' || invoices.number as what,
        invoices.prepaid_credit_amount_cents as recorded,
        coalesce(sum(transactions.amount_cents), 0) as derived

    from {{ ref('invoices') }} as invoices
    left join {{ ref('wallet_transactions') }} as transactions
        on transactions.invoice_id = invoices.invoice_id
        and transactions.transaction_status = 'invoiced'
    group by invoices.invoice_id, invoices.number, invoices.prepaid_credit_amount_cents

)

select * from running where recorded <> derived or recorded < 0
union all
select * from per_wallet where recorded <> derived or recorded < 0
union all
select * from per_invoice where recorded <> derived or recorded < 0
