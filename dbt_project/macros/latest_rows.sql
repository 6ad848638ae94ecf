{#-
  How a source entity's accepted batches become its current rows, by extract kind (see ingest/contracts.py):
  a full snapshot is replaced by the newest one; incremental changes keep each key's latest version.
-#}
{% macro latest_snapshot(relation) -%}
    select * from {{ relation }}
    where _load_date = (select max(_load_date) from {{ relation }})
{%- endmacro %}

{% macro latest_version(relation, key_columns, change_time) -%}
    select * from {{ relation }}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by {{ change_time }} desc, _load_date desc, _source_row desc
    ) = 1
{%- endmacro %}
