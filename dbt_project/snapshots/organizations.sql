{#-
  党组织历史 (SCD2): each party organization's name, type and parent over time. Checked on those columns rather
  than dated by the export's change time, which the party system does not always move; a version begins at
  the end of the night that first shows it. A dissolved or merged organization, gone from the extract, has its
  last version closed. Kept across nights by warehouse/build.py.
-#}
{% snapshot organizations %}
{{ config(
    unique_key='org_code',
    strategy='check',
    check_cols=['org_name', 'org_type', 'parent_org_code'],
    hard_deletes='invalidate'
) }}
select
    org_code, org_name, org_type, parent_org_code, division_code, grid_code, credit_code, founded_on,
    org_updated_at
from {{ ref('stg_party__organizations') }}
{% endsnapshot %}
