{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='case_no',
        post_hook="{{ drop_rows_of_withdrawn_batches(source('city', 'cases')) }}"
    )
}}

with source as (
    {{ incremental_latest_version(source('city', 'cases'), ['case_no'], 'updated_at') }}
)

select
    case_no,
    grid_code,
    case_origin,
    category,
    item,
    reporter_phone,
    hotline_order_no,
    reported_at as case_reported_at,
    deadline_at as case_deadline_at,
    closed_at as case_closed_at,
    status as case_status,
    resolved_level,
    -- 作废 (voided) is a soft delete: the row stays, marked; the status says it when the stamp is missing
    coalesce(deleted_at, case when status = '已作废' then updated_at end) as case_deleted_at,
    updated_at as case_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
