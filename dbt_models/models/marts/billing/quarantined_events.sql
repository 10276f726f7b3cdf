-- Events that cannot be billed (CONTRACT.md §1), one row per landed event row, with the
-- reason code and a sentence saying what is wrong. Nothing here is billed; fix the event or
-- the catalog and land it again.
--
-- The raw timestamp and properties text are read from the landed row (stg_usage__events) for
-- these rows only: the metering does not carry them beside every event.
select
    rejected.landing_seq,
    rejected.reason,
    rejected.detail,
    rejected.transaction_id,
    rejected.external_subscription_id,
    rejected.code,
    rejected.event_at,
    landed.timestamp_raw,
    landed.properties_raw as properties,
    rejected.duplicate_of_landing_seq,
    event_files.path as landed_file,
    rejected.file_row_number

from {{ ref('int_events_rejected') }} as rejected
left join {{ ref('stg_usage__events') }} as landed using (landing_seq)
left join {{ source('landing', 'event_files') }} as event_files
    on rejected.file_index = event_files.file_index
where rejected.outcome = 'quarantined'
order by rejected.landing_seq
