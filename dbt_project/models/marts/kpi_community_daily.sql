-- Case KPIs per community and day: its grids' counts summed, rates recomputed (macros/kpis.sql), and whether
-- the community has its own party committee (社区大党委).
with rolled_up as (
    {{ kpi_rollup(ref('kpi_grid_daily'), ['community_code', 'street_code', 'district_code']) }}
),

committees as (
    select distinct division_code as community_code
    from {{ ref('dim_organization') }}
    where org_level = '社区'
)

select
    r.*,
    c.community_code is not null as has_party_committee
from rolled_up as r
left join committees as c
    on r.community_code = c.community_code
