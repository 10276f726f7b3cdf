-- One row per landed event row: renamed and typed, nothing dropped. Rows whose fields cannot
-- be read keep null in the typed column and their raw text, for the quarantine to explain.
with

source as (

    select * from {{ source('landing', 'events') }}

),

typed as (

    select
        landing_seq,
        file_index,
        file_row_number,
        nullif(trim(transaction_id), '') as transaction_id,
        nullif(trim(external_subscription_id), '') as external_subscription_id,
        nullif(trim(code), '') as code,
        coalesce(
            timestamp_value,
            try_cast(timestamp_text as timestamptz),
            case
                when regexp_full_match(trim(timestamp_text), '-?\d+(\.\d+)?')
                    then to_timestamp(cast(trim(timestamp_text) as double))
            end
        ) as event_at,
        coalesce(cast(timestamp_value as varchar), timestamp_text) as timestamp_raw,
        timestamp_text,
        try_cast(coalesce(properties, '{}') as json) as properties,
        coalesce(properties, '{}') as properties_raw,
        try_cast(precise_total_amount_cents as decimal(38, 12)) as precise_total_amount_cents,
        precise_total_amount_cents as precise_total_amount_cents_raw

    from source

)

select * from typed
