-- One row per version of each party organization (SCD2, from the organizations snapshot): its name, type and
-- parent from the night a change was first seen to the next change. A version that ends with no next one
-- ends in the organization's dissolution or merger (gone from the extract).
with versions as (
    select
        org_code,
        org_name,
        org_type,
        parent_org_code,
        division_code,
        grid_code,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        lead(dbt_valid_from) over (partition by org_code order by dbt_valid_from) as next_valid_from
    from {{ ref('organizations') }}
)

select
    org_code,
    org_name,
    org_type,
    parent_org_code,
    division_code,
    grid_code,
    valid_from,
    valid_to,
    valid_to is null as is_current,
    valid_to is not null and next_valid_from is null as ends_in_dissolution
from versions
