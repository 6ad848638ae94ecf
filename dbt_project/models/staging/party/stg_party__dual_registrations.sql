with source as (
    {{ latest_snapshot(source('party', 'dual_registrations')) }}
)

select
    registration_id,
    case registrant_kind when '党员' then 'member' when '党组织' then 'organization' end as registrant_kind,
    member_id,
    org_code,
    community_code,
    registered_on,
    report_year,
    report_submitted_on,
    activities_count,
    updated_at as registration_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
