with source as (
    {{ latest_snapshot(source('party', 'organizations')) }}
)

select
    org_code,
    org_name,
    org_type,
    nullif(parent_org_code, '') as parent_org_code,
    division_code,
    grid_code,
    credit_code,
    founded_on,
    updated_at as org_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
