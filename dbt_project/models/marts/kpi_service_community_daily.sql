-- Service applications per community and day: submitted, completed, completed within promise, and the rate
-- (macros/service_kpis.sql). A community appears on the days something happened to its applications.
with summed as (
    select
        community_code,
        date_day,
        sum(applications_submitted)::bigint as applications_submitted,
        sum(applications_completed)::bigint as applications_completed,
        sum(applications_completed_within_promise)::bigint as applications_completed_within_promise
    from ({{ service_kpi_events(ref('fct_service_application')) }})
    group by all
)

select
    community_code,
    left(community_code, 9) as street_code,
    left(community_code, 6) as district_code,
    date_day,
    applications_submitted,
    applications_completed,
    applications_completed_within_promise,
    {{ service_kpi_rates() }}
from summed
