-- Approvals to finalize drafts before their grace period ends (billing approve).
select
    approval_id,
    approved_at,
    first_day,
    last_day,
    external_customer_id,
    note

from {{ source('ledger', 'approvals') }}
