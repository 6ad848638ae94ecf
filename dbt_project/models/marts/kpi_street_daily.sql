-- Case KPIs per street and day: its grids' counts summed, rates recomputed (macros/kpis.sql), and the share
-- of its communities that have their own party committee.
with rolled_up as (
    {{ kpi_rollup(ref('kpi_grid_daily'), ['street_code', 'district_code']) }}
),

communities as (
    select
        street_code,
        date_day,
        count(*)::bigint as communities,
        count(*) filter (where has_party_committee)::bigint as communities_with_party_committee
    from {{ ref('kpi_community_daily') }}
    group by street_code, date_day
)

select
    r.*,
    c.communities,
    c.communities_with_party_committee,
    {{ kpi_ratio('c.communities_with_party_committee', 'c.communities') }} as community_party_coverage_rate
from rolled_up as r
inner join communities as c
    on r.street_code = c.street_code and r.date_day = c.date_day
