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

{#-
  The incremental form of latest_version, for a staging model that keeps its source's key columns and names
  the batch of each row batch_id. On a night that extends the table it recomputes only the keys that a batch
  not yet in the table carries, or whose row came from a batch that is no longer accepted (replaced by a
  later batch of the same day), each from all of its accepted versions: a late update replaces the row, a
  rerun of a night finds nothing new, and batches may arrive in any order (backfills, readmissions).
  Rows left of batches no longer accepted are removed by drop_rows_of_withdrawn_batches (a post-hook).
-#}
{% macro incremental_latest_version(relation, key_columns, change_time) -%}
    {%- if is_incremental() %}
    with touched as (
        select {{ key_columns | join(', ') }} from {{ relation }}
        where _batch_id not in (select distinct batch_id from {{ this }})
        union
        select {{ key_columns | join(', ') }} from {{ this }}
        where batch_id not in (select distinct _batch_id from {{ relation }})
    )

    select s.* from {{ relation }} as s
    semi join touched using ({{ key_columns | join(', ') }})
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by {{ change_time }} desc, _load_date desc, _source_row desc
    ) = 1
    {%- else %}
    {{ latest_version(relation, key_columns, change_time) }}
    {%- endif %}
{%- endmacro %}

{% macro drop_rows_of_withdrawn_batches(relation) -%}
    delete from {{ this }} where batch_id not in (select distinct _batch_id from {{ relation }})
{%- endmacro %}
