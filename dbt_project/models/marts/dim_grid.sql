-- One row per unit grid ever extracted, with its place in the district → street → community → grid hierarchy:
-- the current ones, and those gone from the snapshot (merged away) with their last version, flagged.
with grids as (
    select
        grid_code, grid_name, community_code, community_name, street_code, street_name, district_code,
        area_m2, households, population, geometry_geojson,
        true as is_current,
        null::timestamp as grid_deleted_at
    from {{ ref('stg_city__grids') }}
    union all
    select
        grid_code, grid_name, community_code, community_name, street_code, street_name, district_code,
        area_m2, households, population, null as geometry_geojson,
        false as is_current,
        dbt_valid_to as grid_deleted_at
    from {{ ref('grids') }}
    where grid_code not in (select grid_code from {{ ref('stg_city__grids') }})
    qualify row_number() over (partition by grid_code order by dbt_valid_from desc) = 1
),

workers as (
    select
        grid_code,
        count(*) filter (where worker_type = '专职') as full_time_workers,
        count(*) filter (where worker_type = '兼职') as part_time_workers
    from {{ ref('stg_city__grid_workers') }}
    group by grid_code
)

select
    g.grid_code,
    g.grid_name,
    g.community_code,
    g.community_name,
    g.street_code,
    g.street_name,
    g.district_code,
    d.district_name,
    g.area_m2,
    g.households,
    g.population,
    coalesce(w.full_time_workers, 0) as full_time_workers,
    coalesce(w.part_time_workers, 0) as part_time_workers,
    g.geometry_geojson,
    g.is_current,
    g.grid_deleted_at
from grids as g
left join {{ ref('dalian_districts') }} as d
    on g.district_code = d.district_code
left join workers as w
    on g.grid_code = w.grid_code
