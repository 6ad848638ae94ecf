with source as (
    {{ latest_version(source('party', 'member_transfers'), ['transfer_no'], 'updated_at') }}
)

select
    transfer_no,
    member_id,
    from_org_code,
    to_org_code,
    effective_on,
    transfer_type,
    updated_at as transfer_updated_at,
    _batch_id as batch_id,
    _source_file as source_file,
    _source_row as source_row
from source
