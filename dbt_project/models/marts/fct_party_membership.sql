-- One row per member per period in an organization, dated by the relationship transfers' effective dates:
-- from joining in the organization the first transfer left (or the roster's, when no transfer is on record),
-- then from each transfer in the organization it went to. A late transfer record backdates its period.
with members as (
    select m.member_id, m.joined_on, m.org_code, i.person_key
    from {{ ref('stg_party__members') }} as m
    inner join {{ ref('int_person_identities') }} as i
        on i.record_source = 'party.members' and i.record_key = m.member_id
),

transfers as (
    select t.*
    from {{ ref('stg_party__member_transfers') }} as t
    where t.member_id in (select member_id from members)
),

first_transfers as (
    select member_id, arg_min(from_org_code, effective_on) as from_org_code
    from transfers
    group by member_id
),

periods as (
    select
        m.member_id,
        coalesce(f.from_org_code, m.org_code) as org_code,
        m.joined_on as valid_from,
        null::varchar as transfer_no,
        null::varchar as transfer_type
    from members as m
    left join first_transfers as f on f.member_id = m.member_id
    union all
    select member_id, to_org_code, effective_on, transfer_no, transfer_type
    from transfers
),

dated as (
    select
        *,
        lead(valid_from) over (partition by member_id order by valid_from) as valid_to
    from periods
)

select
    m.person_key,
    d.org_code,
    o.org_level,
    o.division_code,
    d.valid_from,
    d.valid_to,
    d.valid_to is null as is_current,
    d.transfer_no,
    d.transfer_type
from dated as d
inner join members as m on m.member_id = d.member_id
left join {{ ref('dim_organization') }} as o on o.org_code = d.org_code
