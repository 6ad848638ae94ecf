-- One row per real resident unit: registrations of the same unit (the same unified social credit code,
-- another registration id or spelling) resolved into one; its name and place from the latest registration.
with registrations as (
    select
        *,
        count(*) over (partition by credit_code) as registrations,
        row_number() over (
            partition by credit_code order by unit_updated_at desc, unit_id desc
        ) as recency
    from {{ ref('stg_gov__resident_units') }}
)

select
    credit_code as unit_key,
    substr(credit_code, 3, 6) as registered_division_code,
    unit_name,
    unit_type,
    community_code,
    left(community_code, 9) as street_code,
    left(community_code, 6) as district_code,
    registrations,
    unit_updated_at
from registrations
where recency = 1
