-- One row per unit grid, with its place in the district → street → community → grid hierarchy.
with workers as (
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
    g.geometry_geojson
from {{ ref('stg_city__grids') }} as g
left join {{ ref('dalian_districts') }} as d
    on g.district_code = d.district_code
left join workers as w
    on g.grid_code = w.grid_code
