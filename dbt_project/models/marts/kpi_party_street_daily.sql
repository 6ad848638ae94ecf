-- Party KPIs per street and day: its communities' counts summed, rates recomputed (macros/party_kpis.sql).
{{ party_kpi_rollup(ref('kpi_party_community_daily'), ['street_code', 'district_code']) }}
