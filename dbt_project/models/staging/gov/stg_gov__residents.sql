with source as (
    {{ latest_snapshot(source('gov', 'residents')) }}
)

select
    resident_id,
    full_name,
    gender,
    birth_date,
    id_number,
    id_number like '%*%' as is_id_number_masked,
    phone,
    community_code,
    address,
    updated_at as resident_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
