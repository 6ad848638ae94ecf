"""
### gridfusion_dashboard_refresh

Runs whenever `gridfusion_nightly` publishes a new warehouse (data-aware scheduling on the Asset
`gridfusion_published_warehouse`), and refreshes the file exports dashboards read.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from warehouse.assets import PUBLISHED_WAREHOUSE


@task
def export_cases_by_street() -> str:
    from warehouse.exports import export_cases_by_street as export

    return str(export())


@dag(
    dag_id="gridfusion_dashboard_refresh",
    schedule=[PUBLISHED_WAREHOUSE],
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=False,
    doc_md=__doc__,
    tags=["gridfusion", "downstream"],
)
def gridfusion_dashboard_refresh():
    export_cases_by_street()


gridfusion_dashboard_refresh()
