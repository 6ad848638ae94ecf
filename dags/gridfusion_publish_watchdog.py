"""
### gridfusion_publish_watchdog

At 07:00 Asia/Shanghai, checks that last night's warehouse was published and alerts the data team if not
(the nightly run starts at 02:00; analysts start at 08:00).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task
from airflow.timetables.trigger import CronTriggerTimetable


@task(retries=0)
def check_published() -> None:
    from ingest.config import SHANGHAI
    from warehouse.alerts import check_published as check

    # the 07:00 run on day D+1 checks the night that loaded day D
    check(get_current_context()["logical_date"].astimezone(SHANGHAI).date() - timedelta(days=1))


@dag(
    dag_id="gridfusion_publish_watchdog",
    schedule=CronTriggerTimetable("0 7 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=False,
    doc_md=__doc__,
    tags=["gridfusion", "alerts"],
)
def gridfusion_publish_watchdog():
    check_published()


gridfusion_publish_watchdog()
