-- Every record that stands for a person, from every system, in one shape for identity resolution:
-- what identifies a person (ID number, phone) and what only suggests one (name, birth date, the community they live in).
select 'party.members' as record_source, member_id as record_key,
       full_name, gender, birth_date, id_number, phone,
       null as community_code
from {{ ref('stg_party__members') }}

union all

select 'gov.residents', resident_id, full_name, gender, birth_date, id_number, phone, community_code
from {{ ref('stg_gov__residents') }}

union all

-- a grid worker lives in the community of the grid they work
select 'city.grid_workers', w.worker_id, w.full_name, null, null, null, w.phone, g.community_code
from {{ ref('stg_city__grid_workers') }} as w
left join {{ ref('stg_city__grids') }} as g on g.grid_code = w.grid_code

union all

-- a 12345 caller is known by phone only; the order's community is usually where they live
select 'gov.hotline_callers', order_no, null, null, null, null, caller_phone, community_code
from {{ ref('stg_gov__hotline_orders') }}
where caller_phone is not null

union all

-- a volunteer, once however many activities: a member carries the roster's ID number (when the roster row
-- loaded), anyone else only name and phone; they serve in the community they live in
select 'party.volunteers', v.volunteer_key, v.volunteer_name, null, null, m.id_number, v.volunteer_phone,
       v.community_code
from (
    select
        volunteer_key,
        any_value(member_id) as member_id,
        arg_max(volunteer_name, served_on) as volunteer_name,
        arg_max(volunteer_phone, served_on) as volunteer_phone,
        arg_max(community_code, served_on) as community_code
    from {{ ref('stg_party__volunteer_service') }}
    group by volunteer_key
) as v
left join {{ ref('stg_party__members') }} as m on m.member_id = v.member_id

union all

-- a resident applying for a service (办件): the application names its resident, whose name and birth date it
-- takes; its own ID number is often masked, so the resident's full one stands in for it then
select 'gov.service_applicants', a.application_no, r.full_name, r.gender, r.birth_date,
       case when a.applicant_id_number like '%*%' and r.id_number not like '%*%' then r.id_number
            else a.applicant_id_number end,
       a.applicant_phone, a.community_code
from {{ ref('stg_gov__service_applications') }} as a
left join {{ ref('stg_gov__residents') }} as r on r.resident_id = a.applicant_resident_id
where a.applicant_type = '个人'
