with source as (
    {{ latest_snapshot(source('city', 'grids')) }}
)

select
    grid_code,
    grid_name,
    community_code,
    community_name,
    left(community_code, 9) as street_code,
    street_name,
    left(community_code, 6) as district_code,
    area_m2,
    households,
    population,
    geometry as geometry_geojson,
    updated_at as grid_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
