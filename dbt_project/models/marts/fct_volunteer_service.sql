-- One row per volunteer per activity (志愿服务): where and when, hours and points (积分制), and the volunteer
-- as a pseudonymous person key, found through the volunteer's person record.
select
    s.record_no,
    s.activity_id,
    s.served_on,
    s.community_code,
    left(s.community_code, 9) as street_code,
    left(s.community_code, 6) as district_code,
    s.hours,
    s.points::bigint as points,
    s.member_id is not null as is_party_member,
    i.person_key
from {{ ref('stg_party__volunteer_service') }} as s
left join {{ ref('int_person_identities') }} as i
    on i.record_source = 'party.volunteers' and i.record_key = s.volunteer_key
