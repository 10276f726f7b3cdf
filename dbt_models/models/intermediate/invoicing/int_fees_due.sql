-- Every fee due by --as-of and not billed yet, before it is placed on an invoice: the charge
-- fees and the subscription fees, in one shape.
with

charge_fees as (

    select * from {{ ref('int_fees_charge') }}

),

subscription_fees as (

    select * from {{ ref('int_fees_subscription') }}

),

fees as (

    select
        fee_key,
        fee_type,
        external_subscription_id,
        phase_index,
        period_index,
        charges_index,
        external_customer_id,
        currency,
        plan_code,
        billing_at,
        charge_id,
        charge_position,
        billable_metric_code,
        billable_metric_name,
        charge_model,
        pricing_id,
        filter_position,
        display_name,
        group_key,
        is_true_up,
        units,
        events_count,
        amount_cents,
        precise_amount_cents,
        from_datetime,
        to_datetime

    from charge_fees

    union all

    select
        fee_key,
        fee_type,
        external_subscription_id,
        phase_index,
        period_index,
        charges_index,
        external_customer_id,
        currency,
        plan_code,
        billing_at,
        null as charge_id,
        cast(-1 as bigint) as charge_position,
        null as billable_metric_code,
        null as billable_metric_name,
        null as charge_model,
        null as pricing_id,
        cast(null as bigint) as filter_position,
        display_name,
        null as group_key,
        false as is_true_up,
        units,
        cast(0 as bigint) as events_count,
        amount_cents,
        precise_amount_cents,
        from_datetime,
        to_datetime

    from subscription_fees

)

select * from fees
