{#-
  One branch per table of the `quarantine` source, which warehouse/sources.py generates from
  ingest/contracts.py: a new entity shows up here without editing this model. dbt knows the sources only
  when it executes, hence `execute`. The typed columns are left out on purpose: the raw record is enough
  to see what was wrong, and a reviewer should not need the parsed personal fields.
-#}
{%- set tables = [] -%}
{%- if execute -%}
    {%- set tables = graph.sources.values() | selectattr('source_name', 'equalto', 'quarantine')
        | sort(attribute='name') | list -%}
{%- endif -%}

{%- for table in tables %}
select
    '{{ table.meta.source_entity }}' as source_entity,
    {% for column in table.meta.primary_key -%}
        cast({{ column }} as varchar){{ " || '+' || " if not loop.last }}
    {%- endfor %} as record_key,
    _load_date as load_date,
    _batch_id as batch_id,
    _loaded_at as loaded_at,
    _source_file as source_file,
    _source_row as source_row,
    _rules as rules,
    cast(_raw as json) as raw_record,
    _readmitted_by as readmitted_by
from {{ source('quarantine', table.name) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
