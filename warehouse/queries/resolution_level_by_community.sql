-- 小事不出网格、大事不出社区 Share of closed grid cases resolved at grid level and within the community, by
-- community over every day loaded.
select
    g.street_name,
    g.community_name,
    k.community_code,
    sum(k.cases_closed) as cases_closed,
    round(sum(k.cases_resolved_at_grid) / nullif(sum(k.cases_closed), 0), 3) as grid_resolution_rate,
    round(sum(k.cases_resolved_within_community) / nullif(sum(k.cases_closed), 0), 3)
        as community_resolution_rate
from marts.kpi_community_daily as k
join (select distinct community_code, community_name, street_name from marts.dim_grid) as g
    using (community_code)
group by all
order by community_resolution_rate, k.community_code
