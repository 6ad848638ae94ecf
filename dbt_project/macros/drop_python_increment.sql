{#-
  dbt-duckdb writes an incremental Python model's new rows into a table main.<model>__dbt_tmp<time> and, taking
  it for a temporary table, never drops it. This post-hook drops it, so the warehouse holds only its models.
-#}
{% macro drop_python_increment() -%}
    {%- if execute and is_incremental() -%}
        {%- set leftovers = run_query(
            "select table_name from duckdb_tables() where database_name = current_database() "
            ~ "and schema_name = 'main' and starts_with(table_name, '" ~ this.identifier ~ "__dbt_tmp')"
        ) -%}
        {%- for row in leftovers.rows %}
    drop table if exists main."{{ row[0] }}";
        {%- endfor %}
    {%- endif %}
    select 1
{%- endmacro %}
