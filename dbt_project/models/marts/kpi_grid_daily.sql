-- Case, worker-load and council KPIs per unit grid and day (definitions in macros/kpis.sql), and whether the
-- grid has its own party organization that day (macros/party_coverage.sql), from the first to the last day a
-- case was reported; every grid has a row every day, with zeros on a quiet one.
with days as (
    select date_day
    from {{ ref('dim_date') }}
    where date_day <= (select max(case_reported_at)::date from {{ ref('fct_case') }})
),

events as (
    {{ case_kpi_events(ref('fct_case')) }}
),

per_day as (
    select
        grid_code,
        date_day,
        sum(cases_opened) as cases_opened,
        sum(cases_closed) as cases_closed,
        sum(cases_closed_on_time) as cases_closed_on_time,
        sum(cases_overdue) as cases_overdue,
        sum(cases_resolved_at_grid) as cases_resolved_at_grid,
        sum(cases_resolved_within_community) as cases_resolved_within_community,
        sum(cases_reworked) as cases_reworked,
        sum(satisfaction_responses) as satisfaction_responses,
        sum(satisfied_responses) as satisfied_responses
    from events
    group by grid_code, date_day
),

meetings as (
    {{ council_meeting_events(ref('fct_council_meeting')) }}
),

existing as (
    {{ grids_on_day(ref('int_grid_versions'), 'days') }}
),

workers as (
    {{ grid_workers_on_day(ref('fct_grid_worker_assignment'), 'days') }}
),

party_branches as (
    {{ grid_party_branches_on_day(ref('dim_organization_history'), ref('dim_organization'), 'days') }}
),

grid_days as (
    select
        g.grid_code,
        g.community_code,
        g.street_code,
        g.district_code,
        d.date_day,
        {% for column in ['cases_opened', 'cases_closed', 'cases_closed_on_time', 'cases_overdue',
                          'cases_resolved_at_grid', 'cases_resolved_within_community', 'cases_reworked',
                          'satisfaction_responses', 'satisfied_responses'] -%}
        coalesce(e.{{ column }}, 0)::bigint as {{ column }},
        {% endfor -%}
        (x.grid_code is not null)::bigint as grids,
        (x.grid_code is not null and b.grid_code is not null)::bigint as grids_with_party_branch,
        coalesce(w.grid_workers, 0)::bigint as grid_workers,
        coalesce(x.households, 0)::bigint as households,
        coalesce(m.council_meetings, 0)::bigint as council_meetings
    from {{ ref('dim_grid') }} as g
    cross join days as d
    left join per_day as e
        on g.grid_code = e.grid_code and d.date_day = e.date_day
    left join party_branches as b
        on g.grid_code = b.grid_code and d.date_day = b.date_day
    left join existing as x
        on g.grid_code = x.grid_code and d.date_day = x.date_day
    left join workers as w
        on g.grid_code = w.grid_code and d.date_day = w.date_day
    left join meetings as m
        on g.grid_code = m.grid_code and d.date_day = m.date_day
),

with_backlog as (
    -- the days start with the first case reported, so nothing is open before them
    select
        *,
        sum(cases_opened - cases_closed) over (partition by grid_code order by date_day)::bigint
            as open_cases_end_of_day
    from grid_days
)

select *, {{ kpi_rates() }}
from with_backlog
