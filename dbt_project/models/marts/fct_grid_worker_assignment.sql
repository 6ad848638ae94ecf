-- One row per grid worker's assignment to a grid (网格员任职), from the SCD2 snapshot: a move to another grid
-- closes one assignment and opens the next; a worker gone from the snapshot extract has their last one closed
-- at the end of the night that noticed it, and is marked as having left.
with versions as (
    select
        worker_id,
        grid_code,
        worker_type,
        dbt_valid_from as assigned_from,
        dbt_valid_to as assigned_until,
        lead(dbt_valid_from) over (partition by worker_id order by dbt_valid_from) as next_assigned_from
    from {{ ref('grid_worker_assignments') }}
)

select
    v.worker_id,
    v.grid_code,
    g.community_code,
    g.street_code,
    g.district_code,
    v.worker_type,
    v.assigned_from,
    v.assigned_until,
    v.assigned_until is null as is_current,
    v.assigned_until is not null and v.next_assigned_from is null as has_left
from versions as v
left join {{ ref('dim_grid') }} as g
    on v.grid_code = g.grid_code
