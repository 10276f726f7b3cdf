-- Every landed event that will not be billed, with why (int_events_outcomes): later copies of
-- an event already landed (duplicates, or conflicting duplicates when their content differs)
-- and events that cannot be billed (quarantined). Every other landed event is billable
-- (int_events_billable); nothing is dropped in silence.
select
    landing_seq,
    case reason when 'duplicate' then 'duplicate' else 'quarantined' end as outcome,
    reason,
    detail,
    duplicate_of_landing_seq,
    transaction_id,
    external_subscription_id,
    code,
    event_at,
    cast(landing_seq >> 32 as integer) as file_index,
    landing_seq & 4294967295 as file_row_number

from {{ ref('int_events_outcomes') }}
where reason is not null
