{#-
  党员组织关系历史 (SCD2): which organization each member belonged to, as the nightly roster showed it, from
  the roster's change time. No name or ID number: the member's person is found through member_id inside the
  warehouse. fct_party_membership dates the same history by the transfers' effective dates instead, which
  a late transfer record backdates. Kept across nights by warehouse/build.py.
-#}
{% snapshot member_organizations %}
{{ config(unique_key='member_id', strategy='timestamp', updated_at='member_updated_at', hard_deletes='invalidate') }}
select member_id, org_code, member_updated_at
from {{ ref('stg_party__members') }}
{% endsnapshot %}
