-- One row per workflow step of a grid case (上报 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案, 返工 on a failed
-- check), with how long the case stayed at the step. Steps of a case not in fct_case (its case row was
-- quarantined) wait in staging until the case loads.
--
-- Incremental by case: a night recomputes, from all of their steps, only the cases whose steps were added,
-- changed or taken back since the table was built, and those whose case columns copied onto each step
-- changed; the post-hook removes the steps and cases that are gone.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='case_key',
        on_schema_change='fail',
        post_hook="
            delete from {{ this }} as f
            where not exists (
                select 1 from {{ ref('stg_city__case_steps') }} as s
                where s.case_no = f.case_key and s.step_seq = f.step_seq
            )
            or not exists (select 1 from {{ ref('fct_case') }} as c where c.case_key = f.case_key)
        "
    )
}}

with cases as (
    select case_key, grid_code, community_code, street_code, category_code, case_reported_at
    from {{ ref('fct_case') }}
),

steps as (
    select s.*
    from {{ ref('stg_city__case_steps') }} as s
    semi join cases as c on s.case_no = c.case_key
),

{% if is_incremental() %}
touched as (
    -- steps added, changed or gone since the table was built
    select coalesce(s.case_no, f.case_key) as case_key
    from steps as s
    full join {{ this }} as f
        on s.case_no = f.case_key and s.step_seq = f.step_seq
    where s.case_no is null
        or f.case_key is null
        or (s.step, s.actor, s.step_occurred_at) is distinct from (f.step, f.actor, f.step_occurred_at)

    union

    -- cases whose grid, place, category or report time changed
    select f.case_key
    from {{ this }} as f
    inner join cases as c on f.case_key = c.case_key
    where (f.grid_code, f.community_code, f.street_code, f.category_code) is distinct from
        (c.grid_code, c.community_code, c.street_code, c.category_code)
        or f.hours_since_reported is distinct from
        round(epoch(f.step_occurred_at - c.case_reported_at) / 3600, 2)
),
{% endif %}

recomputed as (
    select s.* from steps as s
    {% if is_incremental() %}
        semi join touched as t on s.case_no = t.case_key
    {% endif %}
)

select
    s.case_no as case_key,
    s.step_seq,
    s.step,
    s.actor,
    s.step_occurred_at,
    s.step_occurred_at::date as step_date,
    lead(s.step_occurred_at) over case_steps as next_step_at,
    round(epoch(lead(s.step_occurred_at) over case_steps - s.step_occurred_at) / 3600, 2) as hours_at_step,
    round(epoch(s.step_occurred_at - c.case_reported_at) / 3600, 2) as hours_since_reported,
    c.grid_code,
    c.community_code,
    c.street_code,
    c.category_code
from recomputed as s
inner join cases as c
    on s.case_no = c.case_key
window case_steps as (partition by s.case_no order by s.step_seq)
