-- The service-item list (便民服务事项清单): one row per item of the latest export.
select
    item_code,
    item_name,
    department,
    promised_working_days,
    is_online,
    is_one_visit,
    item_updated_at
from {{ ref('stg_gov__service_items') }}
