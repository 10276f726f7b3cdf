-- Every fee due by --as-of and not billed yet, before it is placed on an invoice: the charge
-- fees, the subscription fees, the minimum commitment true-ups, the add-on fees of one-off
-- invoices and the fees of re-ratings' supplementary invoices, in one shape. A billed part
-- an open re-rating recomputes (is_rerate) is not due: int_rerate_differences compares it.
with

charge_fees as (

    select * from {{ ref('int_fees_charge') }} where not is_rerate

),

subscription_fees as (

    select * from {{ ref('int_fees_subscription') }} where not is_rerate

),

commitment_fees as (

    select * from {{ ref('int_fees_commitment') }}

),

add_on_fees as (

    select * from {{ ref('int_fees_add_on') }}

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
        null as add_on_code,
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
        null as add_on_code,
        units,
        cast(0 as bigint) as events_count,
        amount_cents,
        precise_amount_cents,
        from_datetime,
        to_datetime

    from subscription_fees

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
        -- after the subscription's other fees, as Lago lists it
        cast(1000000 as bigint) as charge_position,
        null as billable_metric_code,
        null as billable_metric_name,
        null as charge_model,
        null as pricing_id,
        cast(null as bigint) as filter_position,
        display_name,
        null as group_key,
        false as is_true_up,
        null as add_on_code,
        units,
        cast(0 as bigint) as events_count,
        amount_cents,
        precise_amount_cents,
        from_datetime,
        to_datetime

    from commitment_fees

    union all

    -- a one-off invoice's fees belong to no subscription; int_fees_placed puts them on their
    -- invoice by fee_key
    select
        fee_key,
        fee_type,
        null as external_subscription_id,
        cast(null as integer) as phase_index,
        cast(null as bigint) as period_index,
        cast(null as integer) as charges_index,
        external_customer_id,
        currency,
        null as plan_code,
        billing_at,
        null as charge_id,
        cast(position as bigint) as charge_position,
        null as billable_metric_code,
        null as billable_metric_name,
        null as charge_model,
        null as pricing_id,
        cast(null as bigint) as filter_position,
        display_name,
        null as group_key,
        false as is_true_up,
        add_on_code,
        units,
        cast(0 as bigint) as events_count,
        amount_cents,
        precise_amount_cents,
        from_datetime,
        to_datetime

    from add_on_fees

    union all by name

    -- a supplementary invoice's fees (the same columns): int_fees_placed puts them on it by
    -- fee_key
    select
        * exclude (invoice_id, corrects_invoice_id, rerate_id, timezone),
        null as add_on_code

    from {{ ref('int_fees_rerate') }}

)

select * from fees
