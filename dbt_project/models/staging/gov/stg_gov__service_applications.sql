{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='application_no',
        post_hook="{{ drop_rows_of_withdrawn_batches(source('gov', 'service_applications')) }}"
    )
}}

with source as (
    {{ incremental_latest_version(source('gov', 'service_applications'), ['application_no'], 'updated_at') }}
)

select
    application_no,
    item_code,
    applicant_type,
    resident_id as applicant_resident_id,
    id_number as applicant_id_number,
    phone as applicant_phone,
    credit_code as applicant_credit_code,
    channel,
    submitted_at,
    accepted_at,
    completed_at,
    visits,
    status as application_status,
    community_code,
    updated_at as application_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
