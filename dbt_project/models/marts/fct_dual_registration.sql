-- One row per 双报到 registration with a community: a member (by pseudonymous person key) or a resident
-- unit's party organization, the date registered and the latest annual report.
select
    r.registration_id,
    r.registrant_kind,
    i.person_key,
    r.org_code,
    r.community_code,
    left(r.community_code, 9) as street_code,
    left(r.community_code, 6) as district_code,
    r.registered_on,
    r.report_year,
    r.report_submitted_on,
    r.activities_count,
    r.report_submitted_on is not null as has_annual_report
from {{ ref('stg_party__dual_registrations') }} as r
left join {{ ref('int_person_identities') }} as i
    on i.record_source = 'party.members' and i.record_key = r.member_id
