-- Each wallet of prepaid credits (wallets.yaml), with its currency's minor unit. Lago applies
-- a customer's wallets to an invoice in this order (LAGO_RULES.md §13): by priority (1 first),
-- then by creation, then (for one instant) in the order of wallets.yaml.
with

wallets as (

    select * from {{ source('catalog', 'wallets') }}

),

currencies as (

    select * from {{ ref('currencies') }}

),

final as (

    select
        wallets.wallet_id,
        wallets.position,
        wallets.external_customer_id,
        wallets.code as wallet_code,
        wallets.name,
        wallets.currency,
        wallets.rate_amount,
        wallets.priority,
        wallets.created_at,
        wallets.expiration_at,
        wallets.allowed_fee_types,
        currencies.subunit_to_unit,
        row_number() over (
            partition by wallets.external_customer_id
            order by wallets.priority, wallets.created_at, wallets.position) as application_rank

    from wallets
    inner join currencies using (currency)

)

select * from final
