-- Case KPIs per community and day: its grids' counts summed, rates recomputed (macros/kpis.sql), and whether the
-- community has its own party committee (社区大党委) standing that day (macros/party_coverage.sql).
with rolled_up as (
    {{ kpi_rollup(ref('kpi_grid_daily'), ['community_code', 'street_code', 'district_code']) }}
),

days as (
    select distinct date_day from rolled_up
),

committees as (
    {{ community_party_committees_on_day(ref('dim_organization_history'), ref('dim_organization'), 'days') }}
)

select
    r.*,
    c.community_code is not null as has_party_committee
from rolled_up as r
left join committees as c
    on r.community_code = c.community_code and r.date_day = c.date_day
