-- Re-rating requests (billing rerate) with their approval, when given (billing approve
-- --rerate). A close sees what was requested and approved by its own instant.
select
    rerates.rerate_id,
    rerates.requested_at,
    rerates.first_day,
    rerates.last_day,
    rerates.external_customer_id,
    approvals.approved_at

from {{ source('ledger', 'rerates') }} as rerates
left join {{ source('ledger', 'rerate_approvals') }} as approvals using (rerate_id)
