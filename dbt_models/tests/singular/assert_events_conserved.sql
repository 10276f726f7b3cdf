-- Nothing is lost in silence (CONTRACT.md §1): every landed event is billed, pending (its
-- period is not closed yet), a duplicate, or quarantined with a reason. Returns a row when
-- the counts do not add up to the events read.
{{ config(meta={'dagster': {'ref': {'name': 'event_reconciliation'}}}) }}

with

counts as (

    select
        sum(events) filter (where outcome = 'read') as read,
        coalesce(sum(events) filter (where outcome <> 'read'), 0) as accounted

    from {{ ref('event_reconciliation') }}

)

select * from counts where read <> accounted
