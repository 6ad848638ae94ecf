with source as (
    {{ latest_snapshot(source('gov', 'resident_units')) }}
)

select
    unit_id,
    credit_code,
    trim(unit_name) as unit_name,
    unit_type,
    community_code,
    address,
    contact_phone,
    updated_at as unit_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
