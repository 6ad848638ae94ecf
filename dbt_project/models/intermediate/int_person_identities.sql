-- Which real person each record is, as a keyed pseudonym of the anchor int_person_links found for it
-- (the record's own or its person's ID number, else a phone): stable across nights, not reversible.
-- A night takes in only the links of runs after the table's latest: the records new or changed, and those of
-- the persons they touched (warehouse.person_delta).
select
    r.record_source,
    r.record_key,
    r.full_name,
    r.gender,
    r.birth_date,
    r.id_number,
    r.phone,
    l.resolved_by,
    l.match_probability,
    l.resolution_run,
    pseudonym(l.person_anchor) as person_key
from {{ ref('int_person_records') }} as r
inner join {{ ref('int_person_links') }} as l
    on l.record_source = r.record_source and l.record_key = r.record_key
{% if is_incremental() %}
where l.resolution_run > (select coalesce(max(resolution_run), 0) from {{ this }})
{% endif %}
