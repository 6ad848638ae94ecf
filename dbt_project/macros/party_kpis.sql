{#-
  The party dashboards' KPIs, each defined once here. 双报到 rate: in-service (在职) members registered with a
  community by the day, over the in-service members on the roll, by the community they live in. Volunteer
  service: records, hours and points by the community and day served. Rates divide additive counts, so a
  street's rate comes from its communities' summed counts, never averaged.
-#}

{% macro party_kpi_additive_columns() -%}
    {{ return([
        "in_service_members", "registered_in_service_members", "volunteer_records", "volunteer_hours",
        "volunteer_points",
    ]) }}
{%- endmacro %}

{% macro party_kpi_rates() -%}
    {{ kpi_ratio('registered_in_service_members', 'in_service_members') }} as dual_registration_rate
{%- endmacro %}

{#- A community party KPI table rolled up per day to the places named by ``keys``. -#}
{% macro party_kpi_rollup(community_kpis, keys) -%}
    with summed as (
        select
            {{ keys | join(', ') }},
            date_day,
            {% for column in party_kpi_additive_columns() -%}
            sum({{ column }})::{{ 'double' if column == 'volunteer_hours' else 'bigint' }} as {{ column }},
            {% endfor -%}
        from {{ community_kpis }}
        group by all
    )

    select *, {{ party_kpi_rates() }}
    from summed
{%- endmacro %}
