-- Which real person each record is (deterministic rules, strongest first):
--   1. the record's own validated, unmasked ID number;
--   2. the ID number of another record with the same mobile phone;
--   3. for a masked ID (210202********123X): the full ID with the same visible characters, name and birth date;
--   4. otherwise the phone itself identifies the person (grid workers and callers known only by phone).
-- The person key is a keyed pseudonym of that anchor, so it is stable across nights and not reversible.
with records as (
    select
        *,
        id_number is not null and id_number not like '%*%' as has_full_id
    from {{ ref('int_person_records') }}
),

phone_to_id as (
    select phone, min(id_number) as id_number
    from records
    where has_full_id and phone is not null
    group by phone
),

full_ids as (
    select distinct full_name, birth_date, id_number
    from records
    where has_full_id
),

resolved as (
    select
        r.*,
        coalesce(
            case when r.has_full_id then r.id_number end,
            p.id_number,
            m.id_number
        ) as resolved_id_number
    from records as r
    left join phone_to_id as p
        on r.phone = p.phone
    left join full_ids as m
        on r.id_number like '%*%'
        and m.full_name = r.full_name
        and m.birth_date = r.birth_date
        and left(m.id_number, 6) = left(r.id_number, 6)
        and right(m.id_number, 4) = right(r.id_number, 4)
)

select
    record_source,
    record_key,
    full_name,
    gender,
    birth_date,
    id_number,
    resolved_id_number,
    phone,
    case
        when resolved_id_number is not null then 'id_number'
        else 'phone'
    end as resolved_by,
    pseudonym(coalesce('id:' || resolved_id_number, 'tel:' || phone)) as person_key
from resolved
where resolved_id_number is not null or phone is not null
