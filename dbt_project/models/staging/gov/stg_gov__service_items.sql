with source as (
    {{ latest_snapshot(source('gov', 'service_items')) }}
)

select
    item_code,
    item_name,
    department,
    promised_working_days,
    is_online = '是' as is_online,
    is_one_visit = '是' as is_one_visit,
    updated_at as item_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
