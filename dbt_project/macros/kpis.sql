{#-
  The case KPIs of the dashboards, each defined once here. A grid case counts towards a day by the event
  that day: reported (opened), closed (closed, on time, level resolved, rework, satisfaction), its deadline
  passing while still open (overdue); a voided (作废) case counts nowhere. A closure that reached the
  warehouse days late still counts on the day it happened. Worker load divides by the workers assigned to the
  grid at the end of the day; a grid counts, with its households, on the days it exists. Rates divide additive counts, so a community's or street's rate is computed
  from its grids' summed counts, never averaged.
-#}

{#- Per grid and day, the additive counts of the grid cases in ``cases`` (fct_case rows). -#}
{% macro case_kpi_events(cases) -%}
    with counted as (
        select * from {{ cases }}
        where origin_system = 'city' and not is_deleted
    )

    select
        grid_code,
        case_reported_at::date as date_day,
        1 as cases_opened,
        0 as cases_closed,
        0 as cases_closed_on_time,
        0 as cases_overdue,
        0 as cases_resolved_at_grid,
        0 as cases_resolved_within_community,
        0 as cases_reworked,
        0 as satisfaction_responses,
        0 as satisfied_responses
    from counted
    union all
    select
        grid_code,
        case_closed_at::date,
        0,
        1,
        is_closed_on_time::int,
        0,
        is_resolved_at_grid::int,
        is_resolved_within_community::int,
        (rework_count > 0)::int,
        (satisfaction is not null)::int,
        coalesce(is_satisfied, false)::int
    from counted
    where case_closed_at is not null
    union all
    select grid_code, case_deadline_at::date, 0, 0, 0, 1, 0, 0, 0, 0, 0
    from counted
    where not coalesce(case_closed_at <= case_deadline_at, false)
{%- endmacro %}

{#- Per grid and day, the grid council meetings held (网格议事会) in ``meetings`` (fct_council_meeting rows). -#}
{% macro council_meeting_events(meetings) -%}
    select grid_code, held_on as date_day, count(*) as council_meetings
    from {{ meetings }}
    group by all
{%- endmacro %}

{#- Per grid and day in ``days`` that the grid exists at the end of, its households then (int_grid_versions
    rows): a grid merged away drops out, the grid that took it over counts both grids' households. -#}
{% macro grids_on_day(versions, days) -%}
    select v.grid_code, d.date_day, v.households
    from {{ days }} as d
    inner join {{ versions }} as v
        on v.valid_from < d.date_day + interval 1 day
        and coalesce(v.valid_until > d.date_day + interval 1 day, true)
{%- endmacro %}

{#- Per grid and day in ``days``, the grid workers whose assignment (fct_grid_worker_assignment rows) covers
    the end of the day: a worker who moved or left that day counts in the new grid, or nowhere. -#}
{% macro grid_workers_on_day(assignments, days) -%}
    select a.grid_code, d.date_day, count(*) as grid_workers
    from {{ days }} as d
    inner join {{ assignments }} as a
        on a.assigned_from < d.date_day + interval 1 day
        and coalesce(a.assigned_until > d.date_day + interval 1 day, true)
    group by all
{%- endmacro %}

{#- The additive columns of a KPI row: summed when rolling grids up to communities and streets. -#}
{% macro kpi_additive_columns() -%}
    {{ return([
        "cases_opened", "cases_closed", "cases_closed_on_time", "cases_overdue", "cases_resolved_at_grid",
        "cases_resolved_within_community", "cases_reworked", "satisfaction_responses", "satisfied_responses",
        "open_cases_end_of_day", "grids", "grids_with_party_branch", "grid_workers", "households",
        "council_meetings",
    ]) }}
{%- endmacro %}

{% macro kpi_ratio(numerator, denominator) -%}
    case when {{ denominator }} > 0 then {{ numerator }}::double / {{ denominator }} end
{%- endmacro %}

{#- The rates, from a row's additive counts. -#}
{% macro kpi_rates() -%}
    {{ kpi_ratio('cases_closed_on_time', 'cases_closed') }} as on_time_closure_rate,
    {{ kpi_ratio('cases_resolved_at_grid', 'cases_closed') }} as grid_resolution_rate,
    {{ kpi_ratio('cases_resolved_within_community', 'cases_closed') }} as community_resolution_rate,
    {{ kpi_ratio('cases_reworked', 'cases_closed') }} as rework_rate,
    {{ kpi_ratio('satisfied_responses', 'satisfaction_responses') }} as satisfaction_rate,
    {{ kpi_ratio('open_cases_end_of_day', 'grid_workers') }} as open_cases_per_worker,
    {{ kpi_ratio('households', 'grid_workers') }} as households_per_worker,
    {{ kpi_ratio('grids_with_party_branch', 'grids') }} as grid_party_coverage_rate
{%- endmacro %}

{#- A grid KPI table rolled up per day to the places named by ``keys`` (a community or a street, and the
    places above it). -#}
{% macro kpi_rollup(grid_kpis, keys) -%}
    with summed as (
        select
            {{ keys | join(', ') }},
            date_day,
            {% for column in kpi_additive_columns() -%}
            sum({{ column }})::bigint as {{ column }},
            {% endfor -%}
        from {{ grid_kpis }}
        group by all
    )

    select *, {{ kpi_rates() }}
    from summed
{%- endmacro %}
