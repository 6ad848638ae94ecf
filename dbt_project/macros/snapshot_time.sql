{#-
  The time a snapshot records a change or a hard delete at (dbt_valid_from of a checked change, dbt_valid_to of
  a record gone from the extract): the end of the newest night loaded of the snapshotted entities, not the wall
  clock of the build. So a rerun or a backfill gives the same history, and a worker who left on day D stops
  counting at the end of D. Each entity counts, as an unchanged extract lands no new night of its own.
-#}
{% macro duckdb__snapshot_get_time() -%}
    (
        select max(_load_date) + interval 1 day
        from (
            select _load_date from {{ source('city', 'grid_workers') }}
            union all
            select _load_date from {{ source('city', 'grids') }}
            union all
            select _load_date from {{ source('party', 'organizations') }}
        )
    )::timestamp
{%- endmacro %}
