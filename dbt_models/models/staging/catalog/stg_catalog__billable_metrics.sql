with

source as (

    select * from {{ source('catalog', 'billable_metrics') }}

),

renamed as (

    select
        billable_metric_code,
        name,
        aggregation_type,
        field_name,
        recurring,
        weighted_interval,
        rounding_function,
        rounding_precision,
        expression,
        expression_sql,
        custom_aggregator,
        -- Aggregations that read a numeric field from each event (LAGO_RULES.md §3).
        aggregation_type in ('sum_agg', 'max_agg', 'latest_agg', 'weighted_sum_agg')
            as needs_numeric_field

    from source

)

select * from renamed
