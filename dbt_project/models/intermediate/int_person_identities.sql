-- Which real person each record is (deterministic rules, strongest first):
--   1. the record's own validated, unmasked ID number;
--   2. for a masked ID (210202********123X): the one full ID with the same visible characters, name and birth date;
--   3. the ID number found by rules 1–2 for another record with the same mobile phone;
--   4. otherwise the phone itself identifies the person (grid workers and callers known only by phone).
-- The person key is a keyed pseudonym of that anchor, so it is stable across nights and not reversible.
with records as (
    select
        *,
        id_number is not null and id_number not like '%*%' as has_full_id
    from {{ ref('int_person_records') }}
),

full_ids as (
    select
        full_name,
        birth_date,
        left(id_number, 6) as id_prefix,
        right(id_number, 4) as id_suffix,
        min(id_number) as id_number,
        count(distinct id_number) as candidates
    from records
    where has_full_id
    group by all
),

-- rules 1 and 3: a record's own ID number, or the one full ID its mask can only be
by_id as (
    select
        r.*,
        case
            when r.has_full_id then r.id_number
            when m.candidates = 1 then m.id_number
        end as id_anchor
    from records as r
    left join full_ids as m
        on r.id_number like '%*%'
        and m.full_name = r.full_name
        and m.birth_date = r.birth_date
        and m.id_prefix = left(r.id_number, 6)
        and m.id_suffix = right(r.id_number, 4)
),

-- rule 2: a phone belongs to the person whose identified records carry it
phone_to_id as (
    select phone, min(id_anchor) as id_number
    from by_id
    where id_anchor is not null and phone is not null
    group by phone
),

resolved as (
    select
        b.*,
        coalesce(b.id_anchor, p.id_number) as resolved_id_number
    from by_id as b
    left join phone_to_id as p
        on b.phone = p.phone
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
