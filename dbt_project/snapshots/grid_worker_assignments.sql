{#-
  网格员任职历史 (SCD2): which grid each worker served, and as what, over time. No name or phone: the worker's
  person is found through worker_id inside the warehouse. Kept across nights by warehouse/build.py, which
  starts each candidate from the published warehouse's snapshots.
-#}
{% snapshot grid_worker_assignments %}
{{ config(unique_key='worker_id', strategy='timestamp', updated_at='worker_updated_at', hard_deletes='invalidate') }}
select worker_id, grid_code, worker_type, worker_updated_at
from {{ ref('stg_city__grid_workers') }}
{% endsnapshot %}
