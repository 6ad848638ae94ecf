{#-
  The case KPIs of the dashboards, each defined once here. A grid case counts towards a day by the event
  that day: reported (opened), closed (closed, on time, level resolved, rework, satisfaction), its deadline
  passing while still open (overdue). Rates divide additive counts, so a community's or street's rate is
  computed from its grids' summed counts, never averaged.
-#}

{#- Per grid and day, the additive counts of the grid cases in ``cases`` (fct_case rows). -#}
{% macro case_kpi_events(cases) -%}
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
    from {{ cases }}
    where origin_system = 'city'
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
    from {{ cases }}
    where origin_system = 'city' and case_closed_at is not null
    union all
    select grid_code, case_deadline_at::date, 0, 0, 0, 1, 0, 0, 0, 0, 0
    from {{ cases }}
    where origin_system = 'city' and not coalesce(case_closed_at <= case_deadline_at, false)
{%- endmacro %}

{#- The additive columns of a KPI row: summed when rolling grids up to communities and streets. -#}
{% macro kpi_additive_columns() -%}
    {{ return([
        "cases_opened", "cases_closed", "cases_closed_on_time", "cases_overdue", "cases_resolved_at_grid",
        "cases_resolved_within_community", "cases_reworked", "satisfaction_responses", "satisfied_responses",
        "open_cases_end_of_day", "grids", "grids_with_party_branch", "grid_workers", "households",
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
