-- What finance reviews before approving a re-rating (billing rerate, then billing approve
-- --rerate): per re-rating, per fee of the finalized period parts it covers, the amount frozen
-- on the invoice, the amount recomputed now with the current catalog and events, and the
-- difference (recomputed - frozen - what earlier re-ratings corrected). A positive difference
-- is billed by a supplementary invoice, a negative one credited by a credit note, both
-- pointing to the original invoice and period. `status`: awaiting_approval (recomputed by each
-- close until approved), approved (issued by the next close that passes the review gates), or
-- settled (as issued: ledger.rerate_adjustments, with the document's number).
with

open_rerates as (

    -- the columns the ledger keeps (rerate_adjustments); the document is issued on approval
    select * exclude (plan_code, charge_id, charge_position, billable_metric_name,
                      charge_model, pricing_id, filter_position, is_true_up,
                      frozen_events_count, recomputed_events_count, timezone)
        replace (cast(null as varchar) as document_id)
    from {{ ref('int_rerate_differences') }}
    -- settled by this close: in the ledger, below
    anti join {{ ref('rerate_adjustments') }} as settled using (rerate_id)

),

settled as (

    select
        rerate_id,
        'settled' as status,
        * exclude (rerate_id)

    from {{ ref('rerate_adjustments') }}

)

select * from settled
union all by name
select * from open_rerates
order by rerate_id, external_customer_id, invoice_id, external_subscription_id, phase_index,
    period_index, charges_index, fee_type desc, fee_key
