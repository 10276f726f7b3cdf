-- Wallets (LAGO_RULES.md §13): one row per wallet created by --as-of, with its balance and
-- what moved it, all derived from wallet_transactions (the balance is the sum of the
-- wallet's transactions). A wallet past its expiration_at is terminated; its balance is 0.
with

wallets as (

    select * from {{ ref('stg_catalog__wallets') }}
    where created_at <= {{ as_of() }}

),

transactions as (

    select * from {{ ref('wallet_transactions') }}

),

moved as (

    select
        wallet_id,
        cast(sum(signed_amount_cents) as bigint) as balance_cents,
        sum(case when transaction_type = 'inbound' then credit_amount else -credit_amount end)
            as credits_balance,
        cast(sum(amount_cents) filter (where transaction_status = 'purchased') as bigint)
            as purchased_amount_cents,
        cast(sum(amount_cents) filter (where transaction_status = 'granted') as bigint)
            as granted_amount_cents,
        cast(sum(amount_cents) filter (where transaction_status = 'invoiced') as bigint)
            as consumed_amount_cents,
        sum(credit_amount) filter (where transaction_status = 'invoiced') as consumed_credits,
        cast(sum(amount_cents) filter (where transaction_status = 'voided') as bigint)
            as voided_amount_cents,
        cast(sum(amount_cents) filter (where transaction_status = 'expired') as bigint)
            as expired_amount_cents,
        max(settled_at) filter (where transaction_status = 'invoiced')
            as last_consumed_credit_at

    from transactions
    group by wallet_id

),

final as (

    select
        wallets.wallet_id,
        wallets.wallet_code as code,
        wallets.name,
        wallets.external_customer_id,
        wallets.currency,
        wallets.rate_amount,
        wallets.priority,
        case when wallets.expiration_at <= {{ as_of() }} then 'terminated' else 'active' end
            as status,
        wallets.created_at,
        wallets.expiration_at,
        coalesce(moved.balance_cents, 0) as balance_cents,
        cast(coalesce(moved.credits_balance, 0) as decimal(38, 5)) as credits_balance,
        coalesce(moved.purchased_amount_cents, 0) as purchased_amount_cents,
        coalesce(moved.granted_amount_cents, 0) as granted_amount_cents,
        coalesce(moved.consumed_amount_cents, 0) as consumed_amount_cents,
        cast(coalesce(moved.consumed_credits, 0) as decimal(38, 5)) as consumed_credits,
        coalesce(moved.voided_amount_cents, 0) as voided_amount_cents,
        coalesce(moved.expired_amount_cents, 0) as expired_amount_cents,
        moved.last_consumed_credit_at

    from wallets
    left join moved using (wallet_id)

)

select * from final
order by external_customer_id, wallet_id
