-- One row per calendar day from the first case reported to the last deadline or closure on record.
with bounds as (
    select
        min(case_reported_at)::date as first_day,
        greatest(max(case_reported_at), max(case_deadline_at), max(case_closed_at))::date as last_day
    from {{ ref('fct_case') }}
),

days as (
    select unnest(generate_series(first_day, last_day, interval 1 day))::date as date_day
    from bounds
)

select
    date_day,
    (year(date_day) * 10000 + month(date_day) * 100 + day(date_day))::integer as date_key,
    year(date_day)::integer as year,
    quarter(date_day)::integer as quarter,
    month(date_day)::integer as month,
    day(date_day)::integer as day_of_month,
    isodow(date_day)::integer as iso_day_of_week,
    ['星期一', '星期二', '星期三', '星期四', '星期五', '星期六', '星期日'][isodow(date_day)] as weekday_name,
    weekofyear(date_day)::integer as iso_week,
    isodow(date_day) >= 6 as is_weekend
from days
