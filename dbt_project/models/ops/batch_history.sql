with documents as (
    select json from {{ source('load_manifest', 'batches') }}
)

select
    json ->> 'batch_id' as batch_id,
    (json ->> 'system') || '.' || (json ->> 'entity') as source_entity,
    json ->> 'system' as system,
    json ->> 'entity' as entity,
    cast(json ->> 'load_date' as date) as load_date,
    json ->> 'status' as status,
    cast(json ->> 'rows_read' as bigint) as rows_read,
    cast(json ->> 'rows_loaded' as bigint) as rows_loaded,
    cast(json ->> 'rows_quarantined' as bigint) as rows_quarantined,
    coalesce(cast(json ->> 'rows_readmitted' as bigint), 0) as rows_readmitted,
    coalesce(cast(json ->> 'duplicates_dropped' as bigint), 0) as duplicates_dropped,
    nullif(json ->> 'readmitted_from', '') as readmitted_from,
    cast(json ->> 'contract_version' as integer) as contract_version,
    from_json(json -> 'files', '["VARCHAR"]') as files,
    from_json(json -> 'extra_columns', '["VARCHAR"]') as extra_columns,
    from_json(json -> 'missing_columns', '["VARCHAR"]') as missing_columns,
    from_json(json -> 'type_changes', '"MAP(VARCHAR, VARCHAR)"') as type_changes,
    nullif(json ->> 'message', '') as message,
    cast(nullif(json ->> 'landed_at', '') as timestamp) as landed_at,
    cast(nullif(json ->> 'validated_at', '') as timestamp) as validated_at,
    cast(json -> 'timings_s' ->> 'land' as double) as land_seconds,
    cast(json -> 'timings_s' ->> 'validate' as double) as validate_seconds
from documents
