-- Wallet transactions (CONTRACT.md §4, LAGO_RULES.md §13): every movement of every wallet up
-- to --as-of, in the order they happened: inbound credits (purchased, granted) at their
-- instant, outbound ones (invoiced: the credits a finalized invoice took, with its number;
-- voided; expired: the balance lost at expiration_at). Amounts in credits and in minor units;
-- a wallet's balance at any instant is the sum of its transactions up to then
-- (balance_after_cents is that sum, as the walk computed it).
with

applications as (

    select * from {{ ref('int_wallet_applications') }}

),

finalized as (

    select invoice_id, number from {{ ref('finalized_invoices') }}

),

final as (

    select
        md5(concat_ws('|', applications.wallet_id, applications.transaction_status,
                      strftime(applications.moved_at at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%f'),
                      applications.request_position, applications.invoice_id))
            as wallet_transaction_id,
        applications.wallet_id,
        applications.wallet_code,
        applications.external_customer_id,
        applications.currency,
        applications.transaction_type,
        applications.transaction_status,
        'settled' as status,
        applications.moved_at as settled_at,
        applications.request_position,
        applications.invoice_id,
        finalized.number as invoice_number,
        applications.credit_amount,
        applications.amount_cents,
        case applications.transaction_type
            when 'inbound' then applications.amount_cents else -applications.amount_cents
        end as signed_amount_cents,
        applications.balance_after_cents,
        -- the movement's place in its customer's history (several may share an instant)
        applications.step as sequence

    from applications
    left join finalized using (invoice_id)
    where applications.amount_cents > 0
        -- an invoice's credits are a movement once the invoice is in the ledger
        and (applications.invoice_id is null or finalized.invoice_id is not null)

)

select * from final
order by external_customer_id, sequence
