-- 网格员工作量 Grid-worker load on the last day loaded: open cases and households per worker, busiest first.
select
    g.street_name,
    g.community_name,
    g.grid_name,
    k.grid_code,
    k.grid_workers,
    k.open_cases_end_of_day,
    round(k.open_cases_per_worker, 2) as open_cases_per_worker,
    round(k.households_per_worker, 1) as households_per_worker
from marts.kpi_grid_daily as k
join marts.dim_grid as g using (grid_code)
where k.date_day = (select max(date_day) from marts.kpi_grid_daily)
order by open_cases_per_worker desc nulls last, k.grid_code
