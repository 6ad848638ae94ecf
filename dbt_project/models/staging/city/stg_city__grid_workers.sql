with source as (
    {{ latest_snapshot(source('city', 'grid_workers')) }}
)

select
    worker_id,
    full_name,
    phone,
    grid_code,
    worker_type,
    updated_at as worker_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
