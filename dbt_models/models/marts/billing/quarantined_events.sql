-- Events that cannot be billed (CONTRACT.md §1), one row per landed event row, with the
-- reason code and a sentence saying what is wrong. Nothing here is billed; fix the event or
-- the catalog and land it again.
select
    landing_seq,
    reason,
    detail,
    transaction_id,
    external_subscription_id,
    code,
    event_at,
    timestamp_raw,
    properties_raw as properties,
    duplicate_of_landing_seq,
    event_files.path as landed_file,
    file_row_number

from {{ ref('int_events_rejected') }} as rejected
left join {{ source('landing', 'event_files') }} as event_files using (file_index)
where rejected.outcome = 'quarantined'
order by landing_seq
