-- 环节用时 Where grid cases wait: average and 90th-percentile hours at each workflow step, by category.
select
    k.category_name,
    s.step,
    count(*) as steps,
    round(avg(s.hours_at_step), 1) as avg_hours_at_step,
    round(quantile_cont(s.hours_at_step, 0.9), 1) as p90_hours_at_step
from marts.fct_case_step as s
join (select distinct category_code, category_name from marts.dim_case_category) as k using (category_code)
where s.hours_at_step is not null
group by all
order by avg_hours_at_step desc
