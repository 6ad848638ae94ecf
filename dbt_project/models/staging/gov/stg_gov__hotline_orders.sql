with source as (
    {{ latest_version(source('gov', 'hotline_orders'), ['order_no'], 'updated_at') }}
)

select
    order_no,
    received_at as order_received_at,
    caller_phone,
    order_type,
    category,
    community_code,
    handling_unit,
    deadline_at as order_deadline_at,
    completed_at as order_completed_at,
    satisfaction as callback_result,
    callback_at,
    forwarded_case_no,
    status as order_status,
    updated_at as order_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
