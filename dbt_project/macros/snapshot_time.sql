{#-
  The time a snapshot records a hard delete at (dbt_valid_to of a record gone from the extract): the end of
  the newest night loaded of the city's snapshot entities, not the wall clock of the build. So a rerun or a
  backfill gives the same history, and a worker who left on day D stops counting at the end of D.
-#}
{% macro duckdb__snapshot_get_time() -%}
    (
        select max(_load_date) + interval 1 day
        from (
            select _load_date from {{ source('city', 'grid_workers') }}
            union all
            select _load_date from {{ source('city', 'grids') }}
        )
    )::timestamp
{%- endmacro %}
