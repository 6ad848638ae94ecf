"""The Airflow Asset each nightly publish updates, so downstream DAGs (dashboards, exports) follow it."""

from __future__ import annotations

from airflow.sdk import Asset

PUBLISHED_WAREHOUSE = Asset(
    name="gridfusion_published_warehouse", uri="file:///gridfusion/warehouse/analytics.duckdb"
)
