-- Every record that stands for a person, from every system, in one shape for identity resolution.
select 'party.members' as record_source, member_id as record_key,
       full_name, gender, birth_date, id_number, phone
from {{ ref('stg_party__members') }}

union all

select 'gov.residents', resident_id, full_name, gender, birth_date, id_number, phone
from {{ ref('stg_gov__residents') }}

union all

select 'city.grid_workers', worker_id, full_name, null, null, null, phone
from {{ ref('stg_city__grid_workers') }}

union all

select 'gov.hotline_callers', order_no, null, null, null, null, caller_phone
from {{ ref('stg_gov__hotline_orders') }}
where caller_phone is not null
