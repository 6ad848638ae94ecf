-- One row per party organization, with its level in the hierarchy and its current member count.
with members as (
    select org_code, count(*) as member_count
    from {{ ref('stg_party__members') }}
    group by org_code
)

select
    o.org_code,
    o.org_name,
    o.org_type,
    o.parent_org_code,
    case
        when o.grid_code is not null then '网格'
        when o.division_code like '%000000' then '区'
        when o.division_code like '%000' then '街道'
        else '社区'
    end as org_level,
    o.division_code,
    left(o.division_code, 6) as district_code,
    o.grid_code,
    o.credit_code as unit_key,
    o.founded_on,
    coalesce(m.member_count, 0) as member_count
from {{ ref('stg_party__organizations') }} as o
left join members as m
    on o.org_code = m.org_code
