{{ config(materialized='table') }}

-- Coupons on the invoices due (LAGO_RULES.md §10), applied the way Lago's
-- Credits::AppliedCouponsService / AppliedCouponService / AppliedCoupons::AmountService do:
--
--   * a customer's invoices are taken in billing order; on each, the coupons applied to the
--     customer by then, limited to billable metrics first, then limited to plans, then
--     unrestricted, each class by application date (then by position in the file);
--   * a coupon is skipped when the invoice's subtotal is already 0 (this also skips invoices
--     whose fees total 0), when it is fixed_amount in another currency, when it is limited
--     and no fee of the invoice is in its scope, and when it is used up: a once percentage
--     coupon after its first invoice, a once fixed_amount coupon once its amount is consumed,
--     a recurring coupon after frequency_duration invoices (a forever coupon never is);
--   * base: Σ (amount - coupons already attached) of the scoped fees for a limited coupon,
--     the invoice's remaining subtotal otherwise;
--   * credit: percentage -> round(base x rate / 100), capped at base; fixed recurring or
--     forever -> min(amount, base); fixed once -> min(amount - already consumed, base), so
--     what is left is carried to the customer's next invoices;
--   * the credit is split over the scoped fees pro rata of (amount - coupons already attached),
--     each fee's precise_coupons_amount_cents kept to 5 decimals after each coupon and capped
--     at the fee's amount.
--
-- Each step depends on the steps before it (what earlier coupons took from the invoice, what
-- earlier invoices took from the coupon), so the steps are walked in order, one customer at a
-- time, by a recursive CTE. Step s of a customer is (its k-th invoice, its c-th coupon); the
-- walk carries the state after each step:
--   fee_coupons     the precise coupons of each fee of the current invoice (a list aligned
--                   with the invoice's fee_keys), reset to zeros on a new invoice;
--   subtotal        the current invoice's fees less the coupons applied to it so far;
--   consumed, uses  per coupon c of the customer: the amount credited and the number of
--                   invoices credited so far, starting from the finalized invoices of
--                   earlier closes (the ledger), so remainders carry across runs.
--
-- One row per step; int_invoice_coupons keeps the credits, int_fee_coupons each invoice's
-- final fee_coupons. Only invoices with coupons to consider have steps. Coupons are not
-- applied to one-off (add-on) invoices (LAGO_RULES.md §16): they take no step.
with recursive

fees as (

    select
        fees.invoice_id,
        fees.fee_key,
        fees.amount_cents,
        fees.billable_metric_code,
        -- a coupon limited to a plan also applies to its versions and overridden copies
        coalesce(plans.parent_plan_code, fees.plan_code) as plan_code

    from {{ ref('int_fees_placed') }} as fees
    left join {{ ref('stg_catalog__plans') }} as plans using (plan_code)

),

invoices as (

    select
        invoice_keys.invoice_id,
        invoice_keys.external_customer_id,
        invoice_keys.billing_at,
        invoice_keys.currency,
        list(fees.fee_key order by fees.fee_key) as fee_keys,
        list(fees.amount_cents order by fees.fee_key) as fee_amounts,
        list(fees.plan_code order by fees.fee_key) as fee_plan_codes,
        list(fees.billable_metric_code order by fees.fee_key) as fee_metric_codes,
        cast(sum(fees.amount_cents) as bigint) as fees_amount_cents,
        row_number() over (
            partition by invoice_keys.external_customer_id
            order by invoice_keys.billing_at, invoice_keys.invoice_id) as invoice_rank

    from {{ ref('int_invoice_keys') }} as invoice_keys
    inner join fees using (invoice_id)
    -- only customers with coupons have anything to walk
    -- a draft gets no coupon: coupons are applied when an invoice is finalized (§17)
    where invoice_keys.invoice_group not in ('one_off', 'rerate')
        and invoice_keys.finalizes
        and invoice_keys.external_customer_id in (
        select external_customer_id from {{ ref('stg_catalog__applied_coupons') }})
    group by invoice_keys.invoice_id, invoice_keys.external_customer_id,
        invoice_keys.billing_at, invoice_keys.currency

),

targets as (

    select
        coupon_code,
        list(target_code) filter (where target_type = 'plan') as plan_codes,
        list(target_code) filter (where target_type = 'billable_metric') as metric_codes

    from {{ ref('stg_catalog__coupon_targets') }}
    group by coupon_code

),

applied_coupons as (

    -- c: the coupon's place in the customer's order of application
    select
        applied.*,
        coalesce(targets.plan_codes, []) as plan_codes,
        coalesce(targets.metric_codes, []) as metric_codes,
        row_number() over (
            partition by applied.external_customer_id
            order by applied.limitation_rank, applied.created_at, applied.position) as c

    from {{ ref('stg_catalog__applied_coupons') }} as applied
    left join targets using (coupon_code)

),

earlier_credits as (

    {{ finalized_coupon_credits() }}

),

starting_state as (

    -- per customer, what each of its coupons gave on invoices finalized by earlier closes
    select
        applied_coupons.external_customer_id,
        list(coalesce(used.consumed, 0) order by applied_coupons.c) as consumed,
        list(coalesce(used.uses, 0) order by applied_coupons.c) as uses

    from applied_coupons
    left join (
        select
            applied_coupon_id,
            cast(sum(amount_cents) as bigint) as consumed,
            cast(count(*) as bigint) as uses
        from earlier_credits
        group by applied_coupon_id
    ) as used using (applied_coupon_id)
    group by applied_coupons.external_customer_id

),

steps as (

    -- every (invoice, coupon) pair to consider, in the order Lago applies them; a coupon
    -- applies to the invoices issued once it was applied to the customer
    select
        invoices.*,
        applied_coupons.* exclude (external_customer_id),
        -- which fees of the invoice the coupon may reduce
        case applied_coupons.limitation
            when 'billable_metrics' then list_transform(invoices.fee_metric_codes,
                lambda code: coalesce(list_contains(applied_coupons.metric_codes, code), false))
            when 'plans' then list_transform(invoices.fee_plan_codes,
                lambda code: coalesce(list_contains(applied_coupons.plan_codes, code), false))
            else list_transform(invoices.fee_keys, lambda key: true)
        end as in_scope,
        row_number() over (
            partition by invoices.external_customer_id
            order by invoices.invoice_rank, applied_coupons.c) as s,
        applied_coupons.c = min(applied_coupons.c) over (partition by invoices.invoice_id)
            as first_of_invoice

    from invoices
    inner join applied_coupons
        on applied_coupons.external_customer_id = invoices.external_customer_id
        and applied_coupons.created_at <= invoices.billing_at

),

walk as (

    -- before the first step: the state the ledger left
    select
        external_customer_id,
        cast(0 as bigint) as s,
        cast(null as varchar) as invoice_id,
        cast(null as varchar) as applied_coupon_id,
        false as applied,
        cast(null as decimal(38, 5)) as base_amount_cents,
        cast(0 as bigint) as amount_cents,
        cast([] as decimal(38, 5)[]) as fee_coupons,
        cast(0 as bigint) as subtotal,
        consumed,
        uses

    from starting_state

    union all

    select
        external_customer_id, s, invoice_id, applied_coupon_id, is_applied, base_cents,
        credit_cents, fee_coupons_after, subtotal_after, consumed_after, uses_after

    from (

        select
            walk.external_customer_id,
            step.s,
            step.invoice_id,
            step.applied_coupon_id,

            -- the state this step starts from: a new invoice starts with no coupons
            case when step.first_of_invoice
                then list_transform(step.fee_amounts, lambda amount: cast(0 as decimal(38, 5)))
                else walk.fee_coupons
            end as fee_coupons_before,
            case when step.first_of_invoice then step.fees_amount_cents else walk.subtotal
            end as subtotal_before,
            walk.consumed[step.c] as consumed_before,
            walk.uses[step.c] as uses_before,

            -- does the coupon apply to this invoice?
            subtotal_before > 0
                and (step.coupon_type = 'percentage' or step.amount_currency = step.currency)
                and list_bool_or(step.in_scope)
                and case step.frequency
                    when 'forever' then true
                    when 'recurring' then uses_before < step.frequency_duration
                    when 'once' then case step.coupon_type
                        when 'percentage' then uses_before = 0
                        else consumed_before < step.amount_cents
                    end
                end as is_applied,

            -- base: the scoped fees less the coupons already on them, or the subtotal left
            case when step.limitation is null then cast(subtotal_before as decimal(38, 5))
                else cast(list_sum(list_transform(step.fee_amounts, lambda amount, i:
                    case when step.in_scope[i] then amount - fee_coupons_before[i] else 0 end))
                    as decimal(38, 5))
            end as base_cents,

            -- the credit, unrounded (the split uses it); a capped credit can carry decimals
            case
                when not is_applied then cast(0 as decimal(38, 5))
                when step.coupon_type = 'percentage' then
                    case when step.percentage_rate >= 100 then base_cents
                        else cast(round(billing_divide(base_cents * step.percentage_rate,
                                                       100), 0) as decimal(38, 5))
                    end
                when step.frequency = 'once' then
                    least(cast(step.amount_cents - consumed_before as decimal(38, 5)),
                          base_cents)
                else least(cast(step.amount_cents as decimal(38, 5)), base_cents)
            end as precise_credit,
            -- the credit as Lago stores it: whole minor units (Rails truncates to integer)
            cast(trunc(precise_credit) as bigint) as credit_cents,

            -- the split: each scoped fee gets credit x its remaining amount / base, 5 decimals,
            -- never more than the fee's amount
            case when not is_applied or base_cents = 0 then fee_coupons_before
                else list_transform(fee_coupons_before, lambda before, i:
                    case when step.in_scope[i] then least(
                        cast(step.fee_amounts[i] as decimal(38, 5)),
                        cast(round(before + billing_divide(
                            precise_credit * (step.fee_amounts[i] - before), base_cents), 5)
                            as decimal(38, 5)))
                    else before end)
            end as fee_coupons_after,
            subtotal_before - credit_cents as subtotal_after,
            list_transform(walk.consumed, lambda credited, i:
                credited + case when i = step.c then credit_cents else 0 end) as consumed_after,
            list_transform(walk.uses, lambda credited_invoices, i:
                credited_invoices + case when i = step.c and is_applied then 1 else 0 end)
                as uses_after

        from walk
        inner join steps as step
            on step.external_customer_id = walk.external_customer_id
            and step.s = walk.s + 1

    )

),

final as (

    select
        walk.external_customer_id,
        walk.s as step,
        walk.invoice_id,
        walk.applied_coupon_id,
        steps.coupon_code,
        walk.applied,
        walk.base_amount_cents,
        walk.amount_cents,
        steps.fee_keys,
        walk.fee_coupons,
        walk.subtotal as subtotal_after_cents,
        -- the coupon's state after this step
        walk.consumed[steps.c] as consumed_amount_cents,
        walk.uses[steps.c] as invoices_credited,
        walk.s = max(walk.s) over (partition by walk.invoice_id) as last_of_invoice

    from walk
    inner join steps
        on steps.external_customer_id = walk.external_customer_id
        and steps.s = walk.s

)

select * from final
order by external_customer_id, step
