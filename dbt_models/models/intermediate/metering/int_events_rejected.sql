-- Every landed event that will not be billed, with why (int_events_outcomes): later copies of
-- an event already landed (duplicates, or conflicting duplicates when their content differs)
-- and events that cannot be billed (quarantined). Every other landed event is billable
-- (int_events_billable); nothing is dropped in silence.
--
-- The raw timestamp and properties text come from the landed row (stg_usage__events): they
-- are read for these rows only, not written beside every billable event.
with

rejected as (

    select * from {{ ref('int_events_outcomes') }}
    where reason is not null

),

landed as (

    select landing_seq, timestamp_raw, properties_raw
    from {{ ref('stg_usage__events') }}

)

select
    rejected.landing_seq,
    case rejected.reason when 'duplicate' then 'duplicate' else 'quarantined' end as outcome,
    rejected.reason,
    rejected.detail,
    rejected.duplicate_of_landing_seq,
    rejected.transaction_id,
    rejected.external_subscription_id,
    rejected.code,
    rejected.event_at,
    landed.timestamp_raw,
    landed.properties_raw,
    cast(rejected.landing_seq >> 32 as integer) as file_index,
    rejected.landing_seq & 4294967295 as file_row_number

from rejected
left join landed using (landing_seq)
