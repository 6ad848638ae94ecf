{#-
  单元网格历史 (SCD2): each grid's community, name, area, households and population over time. Kept across
  nights by warehouse/build.py, which starts each candidate from the published warehouse's snapshots.
-#}
{% snapshot grids %}
{{ config(unique_key='grid_code', strategy='timestamp', updated_at='grid_updated_at', hard_deletes='invalidate') }}
select
    grid_code, grid_name, community_code, community_name, street_code, street_name, district_code,
    area_m2, households, population, grid_updated_at
from {{ ref('stg_city__grids') }}
{% endsnapshot %}
