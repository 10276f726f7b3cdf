-- One row per usage window of in-arrears charges: the charges period of each billing period
-- (LAGO_RULES.md §6), or, for a plan with `bill_charges_monthly` (quarterly, semiannual or
-- yearly plans), one window per month of the period, each billed at its month's end while
-- the subscription fee is billed once per period. Months are counted from the period origin
-- as periods are, so an anniversary on the 31st bills on the 30th in April.
--
-- charges_index numbers the windows of a period (0 for a period billed as a whole).
with

periods as (

    select * from {{ ref('int_billing_periods') }}

),

whole as (

    select
        *,
        0 as charges_index,
        charges_from_datetime as window_from_datetime,
        charges_to_datetime as window_to_datetime,
        closes_at as window_closes_at,
        period_days as window_days,
        billed_days as window_billed_days

    from periods
    where not coalesce(bill_charges_monthly, false) or months_step is null or months_step = 1

),

months as (

    select
        periods.*,
        unnest(range(0, months_step)) as charges_index

    from periods
    where coalesce(bill_charges_monthly, false) and months_step > 1

),

month_dates as (

    select
        *,
        cast(period_origin + to_months(cast(months_step * period_index + charges_index
                                            as integer)) as date) as month_start_date,
        cast(period_origin + to_months(cast(months_step * period_index + charges_index + 1
                                            as integer)) as date) as next_month_start_date

    from months

),

monthly as (

    select
        * exclude (month_start_date, next_month_start_date),
        greatest(charges_from_datetime, {{ local_midnight('month_start_date', 'timezone') }})
            as window_from_datetime,
        least(charges_to_datetime,
              {{ local_midnight('next_month_start_date', 'timezone') }}
                - interval 1 microsecond) as window_to_datetime,
        least(closes_at, {{ local_midnight('next_month_start_date', 'timezone') }})
            as window_closes_at,
        date_diff('day', month_start_date, next_month_start_date) as window_days,
        date_diff('day', greatest(month_start_date, billed_from_date),
                  least(cast(next_month_start_date - 1 as date), billed_to_date)) + 1
            as window_billed_days

    from month_dates
    -- the months the subscription was active in
    where month_start_date <= billed_to_date and next_month_start_date > billed_from_date

)

select * from whole
union all by name
select * from monthly
