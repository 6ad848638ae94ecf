-- One row per grid council meeting (网格议事会 / 协商议事), with its place in the grid hierarchy.
select
    m.meeting_id,
    m.grid_code,
    g.community_code,
    g.street_code,
    g.district_code,
    m.held_on,
    m.topic,
    m.attendees,
    m.party_member_attendees,
    {{ kpi_ratio('m.party_member_attendees', 'm.attendees') }} as party_member_share,
    m.cases_raised,
    m.outcome
from {{ ref('stg_city__council_meetings') }} as m
left join {{ ref('dim_grid') }} as g
    on m.grid_code = g.grid_code
