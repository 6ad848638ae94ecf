{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['case_no', 'step_seq'],
        post_hook="{{ drop_rows_of_withdrawn_batches(source('city', 'case_steps')) }}"
    )
}}

with source as (
    {{ incremental_latest_version(source('city', 'case_steps'), ['case_no', 'step_seq'], 'occurred_at') }}
)

select
    case_no,
    step_seq,
    step,
    occurred_at as step_occurred_at,
    actor,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
