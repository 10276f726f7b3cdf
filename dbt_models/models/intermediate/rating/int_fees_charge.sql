-- Charge fees: one per charge window, price and pricing group, plus the true-up fee of a
-- charge whose spending minimum (min_amount_cents) its fees do not reach.
--
-- A fee with no units, no amount and no events is not kept, except the charge's default fee
-- when it carries a true-up (LAGO_RULES.md §4). The minimum is prorated by the days the
-- window covers, and the true-up is round(prorated minimum - fees of the charge)
-- (LAGO_RULES.md §7; getlago/lago-api Fees::CreateTrueUpService).
with

priced as (

    select * from {{ ref('int_fees_priced') }}

),

windows as (

    select * from {{ ref('int_charge_windows') }}

),

pricings as (

    select * from {{ ref('stg_catalog__charge_pricings') }}

),

charge_totals as (

    select
        windows.window_id,
        sum(priced.amount_cents) as used_amount_cents,
        sum(priced.precise_amount_cents) as used_precise_amount_cents,
        {{ divide('windows.min_amount_cents * windows.billed_days', 'windows.period_days') }}
            as prorated_min_amount_cents

    from windows
    inner join priced using (window_id)
    where windows.min_amount_cents > 0
    group by windows.window_id, windows.min_amount_cents, windows.billed_days,
        windows.period_days

),

true_ups as (

    select
        window_id,
        windows.charge_id as pricing_id,
        cast(round(prorated_min_amount_cents - used_amount_cents, 0) as bigint) as amount_cents,
        cast(prorated_min_amount_cents - used_precise_amount_cents as decimal(38, 5))
            as precise_amount_cents

    from charge_totals
    inner join windows using (window_id)
    where used_amount_cents < prorated_min_amount_cents

),

fees as (

    select
        priced.window_id,
        priced.pricing_id,
        priced.group_key,
        false as is_true_up,
        priced.units,
        priced.events_count,
        priced.amount_cents,
        priced.precise_amount_cents

    from priced
    left join true_ups using (window_id, pricing_id)
    where priced.units <> 0
        or priced.amount_cents <> 0
        or priced.events_count <> 0
        or (true_ups.window_id is not null and priced.group_key is null)

    union all

    select
        window_id,
        pricing_id,
        null as group_key,
        true as is_true_up,
        cast(1 as decimal(38, 12)) as units,
        cast(0 as bigint) as events_count,
        amount_cents,
        precise_amount_cents

    from true_ups

),

described as (

    select
        md5(concat_ws('|', 'charge', fees.window_id, fees.pricing_id,
                      coalesce(fees.group_key, ''), fees.is_true_up)) as fee_key,
        'charge' as fee_type,
        windows.external_subscription_id,
        windows.phase_index,
        windows.period_index,
        windows.charges_index,
        windows.external_customer_id,
        windows.currency,
        windows.plan_code,
        windows.billing_at,
        windows.charge_id,
        windows.charge_position,
        windows.billable_metric_code,
        windows.billable_metric_name,
        windows.charge_model,
        fees.pricing_id,
        pricings.filter_position,
        coalesce(pricings.invoice_display_name, windows.charge_display_name) as display_name,
        fees.group_key,
        fees.is_true_up,
        fees.units,
        fees.events_count,
        fees.amount_cents,
        fees.precise_amount_cents,
        windows.charges_from_datetime as from_datetime,
        windows.charges_to_datetime as to_datetime,
        windows.is_rerate

    from fees
    inner join windows using (window_id)
    inner join pricings using (pricing_id)

)

select * from described
