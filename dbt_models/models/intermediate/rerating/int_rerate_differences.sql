{{ config(materialized='table') }}

-- What each open re-rating finds: per fee of the period parts it covers (int_rerate_scope),
-- the frozen fee (ledger.finalized_invoices) beside the fee recomputed now, with the current
-- catalog and every event landed, by the same rating models (int_fees_charge,
-- int_fees_subscription, is_rerate):
--
--   difference = recomputed amount - frozen amount - what earlier re-ratings already
--                corrected on that fee (ledger.rerate_adjustments)
--
-- A fee only one side has counts as 0 on the other (a group with new late events, a fee the
-- new price leaves at nothing). Positive: under-billed, a supplementary invoice bills it;
-- negative: over-billed, a credit note credits it back, on the original fee. Nothing is issued
-- until the re-rating is approved; an approved one issues at the next close, once (two
-- approved re-ratings covering one fee in the same close: the earlier approval issues it).
with

scope as (

    select * from {{ ref('int_rerate_scope') }}

),

frozen_fees as (

    {{ finalized_fee_lines(invoices_in=ref('int_rerate_scope')) }}

),

frozen as (

    select scope.rerate_id, frozen_fees.*
    from scope
    inner join frozen_fees
        using (invoice_id, external_subscription_id, phase_index, period_index, charges_index,
               fee_type)

),

recomputed_fees as (

    select * from {{ ref('int_fees_charge') }} where is_rerate
    union all by name
    select * from {{ ref('int_fees_subscription') }} where is_rerate

),

recomputed as (

    select scope.rerate_id, scope.invoice_id, recomputed_fees.*
    from scope
    inner join recomputed_fees
        using (external_subscription_id, phase_index, period_index, charges_index, fee_type)

),

corrected_before as (

    select invoice_id, fee_key, cast(sum(difference_cents) as bigint) as corrected_cents
    from ({{ settled_rerate_adjustments() }})
    group by invoice_id, fee_key

),

compared as (

    select
        coalesce(frozen.rerate_id, recomputed.rerate_id) as rerate_id,
        coalesce(frozen.invoice_id, recomputed.invoice_id) as invoice_id,
        frozen.invoice_number,
        coalesce(frozen.fee_key, recomputed.fee_key) as fee_key,
        frozen.fee_id as original_fee_id,
        coalesce(recomputed.fee_type, frozen.fee_type) as fee_type,
        coalesce(recomputed.external_subscription_id, frozen.external_subscription_id)
            as external_subscription_id,
        coalesce(recomputed.phase_index, frozen.phase_index) as phase_index,
        coalesce(recomputed.period_index, frozen.period_index) as period_index,
        coalesce(recomputed.charges_index, frozen.charges_index) as charges_index,
        coalesce(recomputed.plan_code, frozen.plan_code) as plan_code,
        coalesce(recomputed.charge_id, frozen.charge_id) as charge_id,
        recomputed.charge_position,
        coalesce(recomputed.billable_metric_code, frozen.billable_metric_code)
            as billable_metric_code,
        coalesce(recomputed.billable_metric_name, frozen.billable_metric_name)
            as billable_metric_name,
        coalesce(recomputed.charge_model, frozen.charge_model) as charge_model,
        coalesce(recomputed.pricing_id, frozen.pricing_id) as pricing_id,
        coalesce(recomputed.filter_position, frozen.filter_position) as filter_position,
        coalesce(recomputed.display_name, frozen.display_name) as display_name,
        coalesce(recomputed.group_key, frozen.group_key) as group_key,
        coalesce(recomputed.is_true_up, frozen.is_true_up) as is_true_up,
        coalesce(recomputed.from_datetime, frozen.from_datetime) as from_datetime,
        coalesce(recomputed.to_datetime, frozen.to_datetime) as to_datetime,
        frozen.units as frozen_units,
        frozen.events_count as frozen_events_count,
        coalesce(frozen.amount_cents, 0) as frozen_amount_cents,
        recomputed.units as recomputed_units,
        recomputed.events_count as recomputed_events_count,
        coalesce(recomputed.amount_cents, 0) as recomputed_amount_cents

    from frozen
    full outer join recomputed using (rerate_id, invoice_id, fee_key)

),

with_scope as (

    select
        compared.*,
        scope.requested_at,
        scope.approved_at,
        scope.first_day,
        scope.last_day,
        scope.external_customer_id,
        scope.currency,
        scope.timezone,
        coalesce(corrected_before.corrected_cents, 0) as corrected_before_cents,
        cast(compared.recomputed_amount_cents - compared.frozen_amount_cents
            - coalesce(corrected_before.corrected_cents, 0) as bigint) as found_cents

    from compared
    inner join scope
        using (rerate_id, external_subscription_id, phase_index, period_index, charges_index,
               fee_type)
    left join corrected_before
        on corrected_before.invoice_id = compared.invoice_id
        and corrected_before.fee_key = compared.fee_key

),

claimed as (

    select
        *,
        approved_at is not null and row_number() over (
            partition by invoice_id, fee_key, approved_at is not null
            order by approved_at, rerate_id) = 1 as issues

    from with_scope

),

final as (

    select
        * exclude (found_cents, issues),
        case when approved_at is null then 'awaiting_approval' else 'approved' end as status,
        -- an approved re-rating whose fee an earlier approval corrects in this close: nothing
        case when approved_at is null or issues then found_cents else 0 end
            as difference_cents,
        case
            when approved_at is not null and not issues then 'none'
            when found_cents > 0 then 'supplementary_invoice'
            when found_cents < 0 then 'credit_note'
            else 'none'
        end as action,
        case
            when approved_at is null or not issues or found_cents = 0 then null
            when found_cents > 0 then md5(concat_ws('|', 'rerate', rerate_id, invoice_id))
            else md5(concat_ws('|', 'rerate-credit', rerate_id, invoice_id))
        end as document_id

    from claimed

)

select * from final
order by rerate_id, external_customer_id, invoice_id, external_subscription_id, phase_index,
    period_index, charges_index, fee_type desc, fee_key
