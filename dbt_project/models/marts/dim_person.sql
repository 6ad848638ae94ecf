-- One row per real person across the three systems. No clear name, ID number or phone: a pseudonymous key,
-- the surname with the rest masked, gender, birth year and the roles the person holds.
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
from {{ ref('int_person_identities') }}
group by person_key
