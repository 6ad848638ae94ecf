with outcomes as (
    select json from {{ source('validation', 'rule_outcomes') }}
)

select
    json ->> 'batch_id' as batch_id,
    json ->> 'source_entity' as source_entity,
    cast(json ->> 'load_date' as date) as load_date,
    json ->> 'rule' as rule,
    json ->> 'severity' as severity,
    cast(json ->> 'success' as boolean) as success,
    json ->> 'verdict' as verdict,
    cast(json ->> 'unexpected_count' as bigint) as unexpected_count,
    nullif(json ->> 'error', '') as error
from outcomes
