{{ config(materialized='table') }}

-- Prepaid credits (LAGO_RULES.md §13): every movement of every wallet up to --as-of, walked in
-- time order one customer at a time, the way Lago's wallet services move a balance:
--
--   * credits in: the paid and granted credits of the wallet's creation and of each later
--     transaction, at their instant; cents = round(credits x rate_amount) at the currency's
--     precision (Lago's WalletCredit). Paid credits count as paid when requested (there is no
--     payment to wait for here; Lago waits for the payment of a credit invoice);
--   * voids: the voided credits, never more than the balance left at that instant;
--   * expiration: at expiration_at the wallet ends and what is left of its balance is lost
--     (Lago's clock terminates expired wallets);
--   * invoices: after coupons, taxes and credit notes, a customer's invoices take credits in
--     billing order, from its wallets in application order (priority, creation), as
--     Credits::AllocatePrepaidCreditsByWalletsService does: the invoice's fees are bucketed by
--     fee type (and metric for charges), each bucket worth Σ (amount - coupons + taxes - credit
--     notes) of its fees, buckets taken largest first; a wallet takes from the buckets it
--     applies to (its fee types, its metrics, or all when unlimited) at most its balance and
--     what is left of the invoice's total. The credits a wallet gives an invoice are whole
--     minor units (Lago stores amount_cents as an integer).
--   Invoices finalized by earlier closes keep what they took (read from the ledger); invoices
--   due now are computed. At one instant: credits in (paid, then granted), then voids, then
--   expirations, then
--   invoices (a wallet expiring at an invoice's billing instant no longer pays it).
--
-- Step s of a customer is one movement of one wallet, or one (invoice, wallet) pair. The
-- walk carries the state after each step:
--   balances      per wallet of the customer (by application_rank), its balance in cents;
--   remaining     the current invoice's buckets, what wallets have not taken yet;
--   invoice_left  the current invoice's total less the credits taken so far.
with recursive

wallets as (

    select * from {{ ref('stg_catalog__wallets') }}
    where created_at <= {{ as_of() }}

),

targets as (

    select wallet_id, list(billable_metric_code) as metric_codes
    from {{ ref('stg_catalog__wallet_targets') }}
    group by wallet_id

),

movements as (

    -- the credits each request adds or voids, in cents at the wallet's rate
    select
        movements.wallet_id,
        movements.request_position,
        movements.transaction_status,
        movements.requested_at as moved_at,
        movements.credits,
        {{ to_minor_units('movements.credits * wallets.rate_amount', 'wallets.subunit_to_unit') }}
            as amount_cents

    from {{ ref('stg_catalog__wallet_movements') }} as movements
    inner join wallets using (wallet_id)
    where movements.requested_at <= {{ as_of() }}

),

fees as (

    select * from {{ ref('int_fees') }}

),

due_invoices as (

    -- invoices of this close, with their total before prepaid credits; Lago does not pay
    -- one-off invoices with wallets
    select
        computed.invoice_id,
        computed.external_customer_id,
        computed.currency,
        computed.billing_at,
        computed.sub_total_including_taxes_amount_cents - computed.credit_notes_amount_cents
            as invoice_total_cents

    from {{ ref('int_invoices_computed') }} as computed
    where computed.invoice_type <> 'one_off'
        and computed.finalizes   -- a draft takes no credits until it is finalized (§17)
        and computed.external_customer_id in (select external_customer_id from wallets)

),

fee_buckets as (

    -- each fee's part of the invoice total: amount - coupons + taxes - credit notes
    -- (Lago's cap), grouped by fee type and, for charges, metric; fees with nothing left after
    -- coupons are left out. Credit notes on the invoice's own fees are not built yet: their
    -- precise amount per fee goes here when they are.
    select
        invoice_id,
        fee_type,
        case when fee_type = 'charge' then billable_metric_code end as billable_metric_code,
        sum(amount_cents - precise_coupons_amount_cents + precise_taxes_amount_cents
            - cast(0 as decimal(38, 5))) as cap

    from fees
    where amount_cents - precise_coupons_amount_cents <> 0
        and invoice_id in (select invoice_id from due_invoices)
    group by all
    having cap > 0

),

due_buckets as (

    -- the buckets, largest first; when their unrounded sum falls short of the rounded total
    -- by at most a unit per bucket, the largest takes the difference (Lago's reconcile step)
    select
        due_invoices.invoice_id,
        list(fee_buckets.fee_type order by fee_buckets.cap desc, fee_buckets.fee_type,
            fee_buckets.billable_metric_code) as bucket_fee_types,
        list(fee_buckets.billable_metric_code order by fee_buckets.cap desc,
            fee_buckets.fee_type, fee_buckets.billable_metric_code) as bucket_metric_codes,
        list(fee_buckets.cap order by fee_buckets.cap desc, fee_buckets.fee_type,
            fee_buckets.billable_metric_code) as caps,
        any_value(due_invoices.invoice_total_cents) - sum(fee_buckets.cap) as shortfall

    from due_invoices
    inner join fee_buckets using (invoice_id)
    group by due_invoices.invoice_id

),

reconciled as (

    select
        invoice_id,
        bucket_fee_types,
        bucket_metric_codes,
        case when shortfall > 0 and shortfall <= len(caps)
            then list_transform(caps, lambda cap, i:
                cast(cap + case when i = 1 then shortfall else 0 end as decimal(38, 5)))
            else list_transform(caps, lambda cap: cast(cap as decimal(38, 5)))
        end as caps

    from due_buckets

),

earlier_credits as (

    {{ finalized_prepaid_credits() }}

),

invoice_steps as (

    -- invoices of this close: every wallet of the customer in force at the billing instant
    select
        due_invoices.external_customer_id,
        due_invoices.billing_at as moved_at,
        3 as phase,
        due_invoices.invoice_id,
        wallets.application_rank as w,
        'invoiced' as transaction_status,
        cast(null as integer) as request_position,
        cast(null as decimal(38, 12)) as credits,
        cast(null as bigint) as amount_cents,
        due_invoices.invoice_total_cents,
        coalesce(reconciled.caps, []) as caps,
        -- which buckets this wallet may pay
        list_transform(coalesce(reconciled.bucket_fee_types, []), lambda fee_type, i:
            (len(wallets.allowed_fee_types) = 0 and targets.metric_codes is null)
            or list_contains(wallets.allowed_fee_types, fee_type)
            or (fee_type = 'charge' and coalesce(list_contains(targets.metric_codes,
                                                               reconciled.bucket_metric_codes[i]),
                                                 false))) as applicable

    from due_invoices
    inner join wallets
        on wallets.external_customer_id = due_invoices.external_customer_id
        and wallets.currency = due_invoices.currency
        and wallets.created_at <= due_invoices.billing_at
        and (wallets.expiration_at is null or wallets.expiration_at > due_invoices.billing_at)
    left join targets using (wallet_id)
    left join reconciled using (invoice_id)

    union all

    -- invoices finalized by earlier closes: what they took, as the ledger froze it
    select
        earlier_credits.external_customer_id,
        earlier_credits.billing_at,
        3,
        earlier_credits.invoice_id,
        wallets.application_rank,
        'invoiced',
        null,
        null,
        earlier_credits.amount_cents,
        null,
        [],
        []

    from earlier_credits
    inner join wallets using (wallet_id)

),

movement_steps as (

    select
        wallets.external_customer_id,
        movements.moved_at,
        case when movements.transaction_status = 'voided' then 1 else 0 end as phase,
        cast(null as varchar) as invoice_id,
        wallets.application_rank as w,
        movements.transaction_status,
        movements.request_position,
        movements.credits,
        movements.amount_cents,
        cast(null as bigint) as invoice_total_cents,
        cast([] as decimal(38, 5)[]) as caps,
        cast([] as boolean[]) as applicable

    from movements
    inner join wallets using (wallet_id)

    union all

    -- the end of a wallet: what is left of its balance expires
    select
        external_customer_id, expiration_at, 2, null, application_rank, 'expired', null, null,
        null, null, [], []

    from wallets
    where expiration_at <= {{ as_of() }}

),

steps as (

    select
        *,
        row_number() over (
            partition by external_customer_id
            order by moved_at, phase, invoice_id, w, request_position,
                transaction_status desc) as s,
        invoice_id is not null and w = min(w) over (partition by external_customer_id,
                                                    invoice_id) as first_of_invoice

    from (select * from movement_steps union all select * from invoice_steps)

),

walk as (

    -- before the first step: every wallet of the customer empty
    select
        external_customer_id,
        cast(0 as bigint) as s,
        cast(0 as bigint) as amount_cents,
        cast([] as decimal(38, 5)[]) as taken,
        list_transform(range(max(application_rank)), lambda i: cast(0 as bigint)) as balances,
        cast([] as decimal(38, 5)[]) as remaining,
        cast(0 as bigint) as invoice_left

    from wallets
    group by external_customer_id

    union all

    select external_customer_id, s, amount, taken_now, balances_after, remaining_after,
        invoice_left_after

    from (

        select
            walk.external_customer_id,
            step.s,
            walk.balances[step.w] as balance_before,
            case when step.first_of_invoice then step.caps else walk.remaining end
                as remaining_before,
            case when step.first_of_invoice then step.invoice_total_cents else walk.invoice_left
            end as invoice_left_before,

            -- an invoice of this close: the wallet takes, bucket by bucket, what it may pay,
            -- up to its balance and what is left of the invoice
            greatest(least(balance_before, coalesce(invoice_left_before, 0)), 0) as wallet_cap,
            list_transform(remaining_before, lambda left_in_bucket, i:
                case when step.applicable[i] then greatest(left_in_bucket, 0) else 0 end)
                as payable,
            list_transform(payable, lambda amount, i: cast(least(amount, greatest(
                wallet_cap - coalesce(list_sum(list_slice(payable, 1, i - 1)), 0), 0))
                as decimal(38, 5))) as taken_now,

            case
                when step.transaction_status in ('purchased', 'granted') then step.amount_cents
                when step.transaction_status = 'voided' then least(step.amount_cents,
                                                                   balance_before)
                when step.transaction_status = 'expired' then balance_before
                when step.invoice_total_cents is null then step.amount_cents  -- finalized
                else cast(trunc(coalesce(list_sum(taken_now), 0)) as bigint)
            end as amount,

            list_transform(walk.balances, lambda balance, i: balance + case when i = step.w
                then case when step.transaction_status in ('purchased', 'granted') then amount
                    else -amount end
                else 0 end) as balances_after,
            case when step.invoice_id is null then remaining_before
                else list_transform(remaining_before, lambda left_in_bucket, i:
                    left_in_bucket - coalesce(taken_now[i], 0))
            end as remaining_after,
            case when step.invoice_id is null then invoice_left_before
                else invoice_left_before - amount end as invoice_left_after

        from walk
        inner join steps as step
            on step.external_customer_id = walk.external_customer_id
            and step.s = walk.s + 1

    )

),

final as (

    select
        steps.external_customer_id,
        steps.s as step,
        wallets.wallet_id,
        wallets.wallet_code,
        wallets.currency,
        wallets.rate_amount,
        wallets.subunit_to_unit,
        steps.moved_at,
        case when steps.transaction_status in ('purchased', 'granted') then 'inbound'
            else 'outbound' end as transaction_type,
        steps.transaction_status,
        steps.request_position,
        steps.invoice_id,
        -- an invoice of this close (its credits are computed here), or one the ledger holds
        steps.invoice_id is not null and steps.invoice_total_cents is null as is_finalized,
        walk.amount_cents,
        -- the credits: as requested, else the cents at the wallet's rate (5 decimals)
        case when steps.credits is not null and walk.amount_cents = steps.amount_cents
            then cast(steps.credits as decimal(38, 5))
            else cast(round(billing_divide(billing_divide(walk.amount_cents,
                                                          wallets.subunit_to_unit),
                                           wallets.rate_amount), 5) as decimal(38, 5))
        end as credit_amount,
        walk.balances[steps.w] as balance_after_cents

    from walk
    inner join steps
        on steps.external_customer_id = walk.external_customer_id
        and steps.s = walk.s
    inner join wallets
        on wallets.external_customer_id = steps.external_customer_id
        and wallets.application_rank = steps.w

)

select * from final
order by external_customer_id, step
