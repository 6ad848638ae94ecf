-- 各街道按期结案率 On-time closure rate by street over every day loaded, from the street KPI mart.
select
    g.district_name,
    k.street_code,
    g.street_name,
    sum(k.cases_closed) as cases_closed,
    sum(k.cases_closed_on_time) as cases_closed_on_time,
    round(sum(k.cases_closed_on_time) / nullif(sum(k.cases_closed), 0), 3) as on_time_closure_rate
from marts.kpi_street_daily as k
join (select distinct street_code, street_name, district_name from marts.dim_grid) as g
    using (street_code)
group by all
order by on_time_closure_rate, cases_closed desc
