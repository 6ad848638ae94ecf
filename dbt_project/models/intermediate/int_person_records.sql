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
