-- One row per real person across the three systems. No clear name, ID number or phone: a pseudonymous key,
-- the surname with the rest masked, gender, birth year and the roles the person holds.
--
-- Incremental by person: a night recomputes the persons of the records int_person_identities wrote last (a
-- person that changed has all of its records written again: warehouse.person_delta); the post-hook removes
-- the persons no record belongs to any more.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='person_key',
        on_schema_change='fail',
        post_hook="
            delete from {{ this }} as p
            where not exists (select 1 from {{ ref('int_person_identities') }} as i where i.person_key = p.person_key)
        "
    )
}}

with identities as (
    select * from {{ ref('int_person_identities') }}
    {% if is_incremental() %}
    where person_key in (
        select person_key from {{ ref('int_person_identities') }}
        where resolution_run = (select max(resolution_run) from {{ ref('int_person_identities') }})
    )
    {% endif %}
)

select
    person_key,
    {{ mask_name('min(full_name)') }} as masked_name,
    mode(gender) as gender,
    year(min(birth_date)) as birth_year,
    bool_or(record_source = 'party.members') as is_party_member,
    bool_or(record_source = 'gov.residents') as is_resident,
    bool_or(record_source = 'city.grid_workers') as is_grid_worker,
    bool_or(record_source = 'gov.hotline_callers') as is_hotline_caller,
    bool_or(record_source = 'party.volunteers') as is_volunteer,
    bool_or(record_source = 'gov.service_applicants') as is_service_applicant,
    count(*) as source_record_count
from identities
group by person_key
