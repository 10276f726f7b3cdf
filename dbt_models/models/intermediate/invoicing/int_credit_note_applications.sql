{{ config(materialized='table') }}

-- The customer's credit notes applied to its invoices due (LAGO_RULES.md §9 step 7, §12),
-- the way Lago's Credits::CreditNoteService does:
--
--   * a customer's invoices are taken in billing order; each consumes, after taxes and before
--     prepaid credits, the credit left on the customer's credit notes issued by its billing
--     instant, in its currency, except those crediting the invoice itself, oldest first;
--   * each credit note gives min(its balance, what is left of the invoice), so an invoice
--     never goes below zero, and what a credit note has left is carried to the next invoices;
--   * only the credited part (credit_amount_cents) is a balance: a refund is paid back.
--
-- What each credit note gave to invoices finalized by earlier closes is read back from the
-- ledger (finalized_invoices.applied_credit_notes), so balances carry across closes. Each
-- step depends on the ones before it, so the invoices are walked in order, one customer at a
-- time, by a recursive CTE whose state is the balance of each of the customer's credit notes
-- (a list, in the order they are consumed). One row per credit note amount given to an invoice.
with recursive

credit_notes as (

    select * from {{ ref('int_credit_notes') }}
    where credit_amount_cents > 0

),

earlier_credits as (

    {{ finalized_credit_note_credits() }}

),

balances as (

    -- c: the credit note's place in the customer's order of consumption
    select
        credit_notes.*,
        credit_notes.credit_amount_cents - coalesce(consumed.amount_cents, 0)
            as starting_balance_cents,
        row_number() over (
            partition by credit_notes.external_customer_id
            order by credit_notes.created_at, credit_notes.credit_note_id) as c

    from credit_notes
    left join (
        select credit_note_id, sum(amount_cents) as amount_cents
        from earlier_credits
        group by credit_note_id
    ) as consumed using (credit_note_id)

),

customer_notes as (

    select
        external_customer_id,
        list(credit_note_id order by c) as note_ids,
        list(created_at order by c) as note_created_ats,
        list(currency order by c) as note_currencies,
        list(invoice_id order by c) as note_invoice_ids,
        list(starting_balance_cents order by c) as starting_balances

    from balances
    group by external_customer_id
    having sum(starting_balance_cents) > 0

),

invoices as (

    select
        subtotals.invoice_id,
        subtotals.external_customer_id,
        subtotals.currency,
        subtotals.billing_at,
        subtotals.sub_total_including_taxes_amount_cents as due_cents,
        row_number() over (
            partition by subtotals.external_customer_id
            order by subtotals.billing_at, subtotals.invoice_id) as k

    from {{ ref('int_invoice_subtotals') }} as subtotals
    semi join customer_notes using (external_customer_id)
    -- a draft consumes no credit note until it is finalized (LAGO_RULES.md §17)
    where subtotals.invoice_id in (
        select invoice_id from {{ ref('int_invoice_keys') }} where finalizes)

),

steps as (

    -- which of the customer's credit notes each invoice may consume
    select
        invoices.*,
        list_transform(customer_notes.note_ids, lambda id, i:
            customer_notes.note_created_ats[i] <= invoices.billing_at
            and customer_notes.note_currencies[i] = invoices.currency
            and customer_notes.note_invoice_ids[i] <> invoices.invoice_id) as usable

    from invoices
    inner join customer_notes using (external_customer_id)

),

walk as (

    select
        external_customer_id,
        cast(0 as bigint) as k,
        cast(null as varchar) as invoice_id,
        cast([] as bigint[]) as taken,
        starting_balances as balances

    from customer_notes

    union all

    select
        external_customer_id, k, invoice_id, taken,
        list_transform(balances_before, lambda balance, i: balance - taken[i]) as balances

    from (

        select
            walk.external_customer_id,
            step.k,
            step.invoice_id,
            walk.balances as balances_before,
            -- oldest first: each takes what the ones before it left of the invoice
            list_transform(walk.balances, lambda balance, i:
                case when step.usable[i] then greatest(0, least(balance,
                    step.due_cents - coalesce(list_sum(list_transform(
                        walk.balances[1:i - 1], lambda before, j:
                            case when step.usable[j] then before else 0 end)), 0)))
                else 0 end) as taken

        from walk
        inner join steps as step
            on step.external_customer_id = walk.external_customer_id
            and step.k = walk.k + 1

    )

),

given as (

    select
        external_customer_id,
        invoice_id,
        unnest(taken) as amount,
        unnest(balances) as balance_after,
        unnest(range(1, len(taken) + 1)) as i

    from walk
    where k > 0

),

final as (

    select
        given.invoice_id,
        given.external_customer_id,
        customer_notes.note_ids[given.i] as credit_note_id,
        given.i as position,
        cast(given.amount as bigint) as amount_cents,
        cast(given.balance_after as bigint) as balance_after_cents

    from given
    inner join customer_notes using (external_customer_id)
    where given.amount > 0

)

select * from final
order by external_customer_id, invoice_id, position
