-- Where every landed event went, as of this run: billed (on a finalized invoice), late
-- (in a period already invoiced, landed after the invoice was frozen), pending (in a period
-- not closed yet), duplicate, or quarantined (by reason).
-- read = billed + late + pending + duplicates + quarantined (tests/assert_events_conserved).
with

landed as (

    select landing_seq from {{ ref('stg_usage__events') }}

),

rejected as (

    select outcome, reason from {{ ref('int_events_rejected') }}

),

placed as (

    select placement from {{ ref('int_events_placed') }}

),

outcomes as (

    select 'read' as outcome, null as reason, count(*) as events from landed
    union all
    select placement, null, count(*) from placed group by 1
    union all
    select outcome, reason, count(*) from rejected group by 1, 2

)

select outcome, reason, events
from outcomes
order by
    case outcome when 'read' then 0 when 'billed' then 1 when 'late' then 2
        when 'pending' then 3 when 'duplicate' then 4 else 5 end,
    reason
