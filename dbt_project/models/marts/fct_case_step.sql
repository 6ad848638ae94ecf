-- One row per workflow step of a grid case (上报 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案, 返工 on a failed
-- check), with how long the case stayed at the step. Steps of a case not in fct_case (its case row was
-- quarantined) wait in staging until the case loads.
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
from {{ ref('stg_city__case_steps') }} as s
inner join {{ ref('fct_case') }} as c
    on s.case_no = c.case_key
window case_steps as (partition by s.case_no order by s.step_seq)
