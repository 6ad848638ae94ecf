-- One row per case, whatever its origin: grid cases (patrol, resident report, video, forwarded 12345 orders)
-- and the 12345 orders that were never forwarded to a grid. A forwarded order appears once, as its grid case.
with steps as (
    -- the last time each workflow step happened: after a rework the final round's handling counts
    select
        case_no,
        count(*) as step_count,
        count(*) filter (where step = '返工') as rework_count,
        max(step_occurred_at) filter (where step = '立案') as case_registered_at,
        max(step_occurred_at) filter (where step = '派遣') as case_dispatched_at,
        max(step_occurred_at) filter (where step = '处置') as case_handled_at,
        max(step_occurred_at) filter (where step = '反馈') as case_fed_back_at,
        max(step_occurred_at) filter (where step = '核查') as case_verified_at
    from {{ ref('stg_city__case_steps') }}
    group by case_no
),

phones as (
    -- one person per phone: a shared family phone goes to one of its holders, never to two rows
    select phone, min(person_key) as person_key
    from {{ ref('int_person_identities') }}
    where phone is not null
    group by phone
),

categories as (
    select distinct category_code, category_name, deadline_hours
    from {{ ref('case_catalogue') }}
),

grid_cases as (
    select
        c.case_no as case_key,
        'city' as origin_system,
        c.case_origin,
        c.hotline_order_no,
        null as hotline_order_type,
        c.grid_code,
        g.community_code,
        c.category,
        c.item,
        c.case_reported_at,
        s.case_registered_at,
        s.case_dispatched_at,
        s.case_handled_at,
        s.case_fed_back_at,
        s.case_verified_at,
        c.case_deadline_at,
        c.case_closed_at,
        c.case_status as source_status,
        c.case_deleted_at,
        c.resolved_level,
        o.callback_at,
        o.callback_result,
        coalesce(s.step_count, 0) as step_count,
        coalesce(s.rework_count, 0) as rework_count,
        c.reporter_phone
    from {{ ref('stg_city__cases') }} as c
    left join {{ ref('dim_grid') }} as g on c.grid_code = g.grid_code  -- merged-away grids included
    left join steps as s on c.case_no = s.case_no
    left join {{ ref('stg_gov__hotline_orders') }} as o on c.hotline_order_no = o.order_no
),

hotline_only as (
    select
        order_no as case_key,
        'gov' as origin_system,
        '12345' as case_origin,
        order_no as hotline_order_no,
        order_type as hotline_order_type,
        null as grid_code,
        community_code,
        category,
        null as item,
        order_received_at as case_reported_at,
        null::timestamp as case_registered_at,
        null::timestamp as case_dispatched_at,
        null::timestamp as case_handled_at,
        null::timestamp as case_fed_back_at,
        null::timestamp as case_verified_at,
        order_deadline_at as case_deadline_at,
        order_completed_at as case_closed_at,
        order_status as source_status,
        null::timestamp as case_deleted_at,
        null as resolved_level,
        callback_at,
        callback_result,
        0 as step_count,
        0 as rework_count,
        caller_phone as reporter_phone
    from {{ ref('stg_gov__hotline_orders') }}
    where forwarded_case_no is null
),

cases as (
    select * from grid_cases
    union all
    select * from hotline_only
),

data_through as (
    -- the end of the last day any case was reported: what "still open past its deadline" is judged against
    select date_trunc('day', max(case_reported_at)) + interval 1 day as data_through_at
    from cases
)

select
    c.case_key,
    c.origin_system,
    c.case_origin,
    c.hotline_order_no,
    c.hotline_order_type,
    c.grid_code,
    c.community_code,
    left(c.community_code, 9) as street_code,
    left(c.community_code, 6) as district_code,
    k.category_code,
    c.category,
    i.item_code,
    c.item,
    k.deadline_hours as category_deadline_hours,
    c.case_reported_at,
    c.case_registered_at,
    c.case_dispatched_at,
    c.case_handled_at,
    c.case_fed_back_at,
    c.case_verified_at,
    c.case_deadline_at,
    c.case_closed_at,
    c.case_closed_at is not null as is_closed,
    c.case_closed_at is not null and c.case_closed_at <= c.case_deadline_at as is_closed_on_time,
    c.case_deleted_at is null and coalesce(c.case_closed_at, d.data_through_at) > c.case_deadline_at
        as is_overdue,
    round(epoch(c.case_closed_at - c.case_reported_at) / 3600, 2) as hours_to_close,
    c.source_status,
    c.case_deleted_at is not null as is_deleted,
    c.case_deleted_at,
    c.resolved_level,
    c.resolved_level = '网格' as is_resolved_at_grid,
    c.resolved_level in ('网格', '社区') as is_resolved_within_community,
    c.callback_at,
    c.callback_result,
    nullif(c.callback_result, '未回访') as satisfaction,
    c.callback_result in ('满意', '基本满意') as is_satisfied,
    c.step_count,
    c.rework_count,
    p.person_key as reporter_person_key
from cases as c
cross join data_through as d
left join categories as k
    on c.category = k.category_name
left join {{ ref('case_catalogue') }} as i
    on c.category = i.category_name and c.item = i.item_name
left join phones as p
    on c.reporter_phone = p.phone
