-- Every landed file's rows are in landing.events once: as many rows as the file holds
-- (landing.event_files.row_count), numbered 0 to n - 1 (lowest, highest and sum of the row
-- numbers). With file_index unique (the landing.event_files key) this keeps landing_seq =
-- file_index << 32 | row number unique, for the price of a grouped count per file instead
-- of a distinct count over every event. Returns a row per file whose rows do not add up
-- (a file of no rows lands none).
{{ config(meta={'dagster': {'ref': {'name': 'stg_usage__events'}}}) }}

with

landed_rows as (

    select
        file_index,
        count(*) as row_count,
        min(file_row_number) as first_row,
        max(file_row_number) as last_row,
        sum(cast(file_row_number as hugeint)) as row_number_sum

    from {{ ref('stg_usage__events') }}
    group by file_index

)

select
    event_files.file_index,
    event_files.row_count as file_rows,
    landed_rows.row_count as landed_rows,
    landed_rows.first_row,
    landed_rows.last_row

from {{ source('landing', 'event_files') }} as event_files
full join landed_rows using (file_index)
where coalesce(landed_rows.row_count, 0) is distinct from event_files.row_count
    or (landed_rows.row_count > 0
        and (landed_rows.first_row <> 0 or landed_rows.last_row <> landed_rows.row_count - 1
            or landed_rows.row_number_sum
                <> cast(landed_rows.row_count as hugeint) * (landed_rows.row_count - 1) // 2))
