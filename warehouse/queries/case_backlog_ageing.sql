-- 积压案件账龄 Open grid cases by street and age at the end of the last day loaded, and how many are past
-- their deadline.
with as_of as (
    select date_trunc('day', max(case_reported_at)) + interval 1 day as data_through_at
    from marts.fct_case
)

select
    c.street_code,
    case
        when c.case_reported_at > a.data_through_at - interval 1 day then '1: < 1 天 day'
        when c.case_reported_at > a.data_through_at - interval 3 day then '2: 1-3 天 days'
        when c.case_reported_at > a.data_through_at - interval 7 day then '3: 3-7 天 days'
        else '4: > 7 天 days'
    end as age_band,
    count(*) as open_cases,
    count(*) filter (where c.is_overdue) as overdue_cases
from marts.fct_case as c
cross join as_of as a
where c.origin_system = 'city' and not c.is_closed and not c.is_deleted  -- a voided case is not a backlog
group by all
order by c.street_code, age_band
