-- Party KPIs per community and day (definitions in macros/party_kpis.sql), on the days of the case KPIs;
-- every community has a row every day.
with days as (
    select distinct date_day from {{ ref('kpi_grid_daily') }}
),

communities as (
    select distinct community_code, street_code, district_code
    from {{ ref('dim_grid') }}
),

-- where each person lives, from their resident record
residences as (
    select i.person_key, any_value(r.community_code) as community_code
    from {{ ref('int_person_identities') }} as i
    inner join {{ ref('stg_gov__residents') }} as r
        on i.record_source = 'gov.residents' and i.record_key = r.resident_id
    group by i.person_key
),

in_service as (
    select m.member_id, h.community_code
    from {{ ref('stg_party__members') }} as m
    inner join {{ ref('int_person_identities') }} as i
        on i.record_source = 'party.members' and i.record_key = m.member_id
    inner join residences as h on h.person_key = i.person_key
    where m.employment_status = '在职'
),

members_per_community as (
    select community_code, count(*) as in_service_members
    from in_service
    group by community_code
),

registrations as (
    select member_id, min(registered_on) as registered_on
    from {{ ref('stg_party__dual_registrations') }}
    where registrant_kind = 'member'
    group by member_id
),

-- counted from the day they registered, or from the first day for those registered before it
newly_registered as (
    select
        s.community_code,
        greatest(r.registered_on, (select min(date_day) from days)) as date_day,
        count(*) as registered
    from in_service as s
    inner join registrations as r on r.member_id = s.member_id
    group by all
),

service as (
    select
        community_code,
        served_on as date_day,
        count(*) as volunteer_records,
        sum(hours) as volunteer_hours,
        sum(points) as volunteer_points
    from {{ ref('fct_volunteer_service') }}
    group by community_code, served_on
),

community_days as (
    select
        c.community_code,
        c.street_code,
        c.district_code,
        d.date_day,
        coalesce(m.in_service_members, 0)::bigint as in_service_members,
        sum(coalesce(n.registered, 0)) over (
            partition by c.community_code order by d.date_day
        )::bigint as registered_in_service_members,
        coalesce(v.volunteer_records, 0)::bigint as volunteer_records,
        coalesce(v.volunteer_hours, 0)::double as volunteer_hours,
        coalesce(v.volunteer_points, 0)::bigint as volunteer_points
    from communities as c
    cross join days as d
    left join members_per_community as m on m.community_code = c.community_code
    left join newly_registered as n on n.community_code = c.community_code and n.date_day = d.date_day
    left join service as v on v.community_code = c.community_code and v.date_day = d.date_day
)

select *, {{ party_kpi_rates() }}
from community_days
