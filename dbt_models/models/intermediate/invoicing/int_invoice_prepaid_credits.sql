-- The prepaid credits of the invoices due (LAGO_RULES.md §13): one row per invoice and wallet
-- that paid part of it, in the order the wallets were applied (int_wallet_applications).
-- Invoices finalized by earlier closes are not here: they keep what the ledger froze.
select
    invoice_id,
    external_customer_id,
    wallet_id,
    wallet_code,
    step as position,
    amount_cents,
    credit_amount

from {{ ref('int_wallet_applications') }}
where transaction_status = 'invoiced'
    and not is_finalized
    and amount_cents > 0
