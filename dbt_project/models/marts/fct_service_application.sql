-- One row per service application (办件): its applicant as a pseudonymous person key or a unit key, its
-- times, and its deadline and whether it was completed within its item's promise (macros/service_kpis.sql).
-- A person applicant is a person record of its own (int_person_records), resolved like any other.
with applicants as (
    select record_key as application_no, person_key
    from {{ ref('int_person_identities') }}
    where record_source = 'gov.service_applicants'
),

applications as (
    select
        a.*,
        i.promised_working_days,
        {{ working_days_after('a.accepted_at', 'i.promised_working_days') }} as deadline_day
    from {{ ref('stg_gov__service_applications') }} as a
    left join {{ ref('stg_gov__service_items') }} as i on a.item_code = i.item_code
)

select
    a.application_no,
    a.item_code,
    a.applicant_type,
    p.person_key as applicant_person_key,
    a.applicant_credit_code as applicant_unit_key,
    a.channel,
    a.community_code,
    left(a.community_code, 9) as street_code,
    left(a.community_code, 6) as district_code,
    a.submitted_at,
    a.accepted_at,
    a.completed_at,
    a.application_status,
    a.visits,
    a.promised_working_days,
    a.deadline_day,
    a.completed_at is not null as is_completed,
    {{ is_completed_within_promise('a.completed_at', 'a.deadline_day') }} as is_completed_within_promise
from applications as a
left join applicants as p on a.application_no = p.application_no
