-- One row per party organization ever extracted, with its level in the hierarchy and its current member count:
-- the current ones, and those gone from the extract (dissolved or merged) with their last version, flagged,
-- so the facts that still name them find them. Every version: dim_organization_history.
with organizations as (
    select
        org_code, org_name, org_type, parent_org_code, division_code, grid_code, credit_code, founded_on,
        true as is_current,
        null::timestamp as org_dissolved_at
    from {{ ref('stg_party__organizations') }}
    union all
    select
        org_code, org_name, org_type, parent_org_code, division_code, grid_code, credit_code, founded_on,
        false as is_current,
        dbt_valid_to as org_dissolved_at
    from {{ ref('organizations') }}
    where org_code not in (select org_code from {{ ref('stg_party__organizations') }})
    qualify row_number() over (partition by org_code order by dbt_valid_from desc) = 1
),

members as (
    select org_code, count(*) as member_count
    from {{ ref('stg_party__members') }}
    group by org_code
)

select
    o.org_code,
    o.org_name,
    o.org_type,
    o.parent_org_code,
    {{ org_level('o.grid_code', 'o.division_code') }} as org_level,
    o.division_code,
    left(o.division_code, 6) as district_code,
    o.grid_code,
    o.credit_code as unit_key,
    o.founded_on,
    coalesce(m.member_count, 0) as member_count,
    o.is_current,
    o.org_dissolved_at
from organizations as o
left join members as m
    on o.org_code = m.org_code
