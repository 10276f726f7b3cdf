-- The period parts the rating models price: those due and not billed yet (int_billing_items)
-- and, marked is_rerate, the billed parts an open re-rating recomputes (int_rerate_scope),
-- each once however many re-ratings cover it. A recomputed part goes through the same
-- windows, metering and charge models as a part billed for the first time; int_fees_due
-- leaves it out and int_rerate_differences compares it with its frozen invoice.
with

unbilled as (

    select *, false as is_rerate
    from {{ ref('int_billing_items') }}

),

rerated as (

    select parts.* exclude (billed_invoice_id), true as is_rerate
    from {{ ref('int_billing_parts') }} as parts
    semi join {{ ref('int_rerate_scope') }} as scope
        using (external_subscription_id, phase_index, period_index, charges_index, item_type)

)

select * from unbilled
union all by name
select * from rerated
