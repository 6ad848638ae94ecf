{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='record_no',
        post_hook="{{ drop_rows_of_withdrawn_batches(source('party', 'volunteer_service')) }}"
    )
}}

with source as (
    {{ incremental_latest_version(source('party', 'volunteer_service'), ['record_no'], 'updated_at') }}
)

select
    record_no,
    activity_id,
    served_on,
    community_code,
    member_id,
    volunteer_name,
    volunteer_phone,
    -- how volunteers are told apart: a member by member number, anyone else by name and phone
    coalesce(member_id, volunteer_name || '|' || coalesce(volunteer_phone, '')) as volunteer_key,
    hours,
    points,
    updated_at as service_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
