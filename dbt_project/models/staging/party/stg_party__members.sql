with source as (
    {{ latest_snapshot(source('party', 'members')) }}
)

select
    member_id,
    full_name,
    gender,
    ethnicity,
    birth_date,
    id_number,
    phone,
    joined_on,
    member_category,
    employment_status,
    org_code,
    updated_at as member_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
