"""
### gridfusion_nightly

Every night at 02:00 Asia/Shanghai, load the previous day's extracts of the three source systems:

1. per system (`party`, `gov`, `city`) and entity: **land** the extract (raw bytes + typed Parquet +
   manifest), then **validate** it with its Great Expectations suite (critical → batch rejected,
   warning → rows quarantined); an entity whose codes must exist in another's (a case's grid) is
   validated after that one, across systems too: `ingest/references.py` derives the order from the
   contracts, and a rejected referenced batch does not hold the check back (the accepted keys stand);
2. **build** the warehouse with `dbt build` on a candidate file, from whatever was accepted;
3. **publish** the candidate by atomic swap, with the de-identified `analytics.duckdb`;
4. **summarise** the night (rows read / loaded / quarantined per entity) and write the quality summary
   and the night's Data Docs for reviewers; the run fails if any batch was rejected or missing, or if
   nothing was published, so problems never pass silently.

A source that fails does not stop the others; with the run parameter `strict` the build waits for all.
`gridfusion_publish_watchdog` alerts at 07:00 when the night's warehouse is not published.

To backfill a range, create an Airflow backfill with `--max-active-runs 1` (the command is in the README,
"Backfilling a range through the scheduler"): the nights then run one at a time, oldest first.
`build_warehouse` and `publish` share the one-slot pool `duckdb_writer`: DuckDB allows one writer per file.

The work lives in `ingest/`, `expectations/` and `warehouse/`; this file only wires it.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.definitions.taskgroup import TaskGroup
from airflow.timetables.interval import CronDataIntervalTimetable

from ingest.contracts import CONTRACTS, SYSTEMS, for_system
from ingest.references import upstream
from warehouse.alerts import on_task_failure
from warehouse.assets import PUBLISHED_WAREHOUSE
from warehouse.backfill import WRITER_POOL

# A late or broken extract is retried with exponential backoff from this delay (the tests shorten it).
EXTRACT_RETRY_DELAY = timedelta(seconds=float(os.environ.get("GRIDFUSION_EXTRACT_RETRY_DELAY_SECONDS", "60")))


def _load_date():
    from ingest.config import load_date_for

    return load_date_for(get_current_context()["data_interval_start"])


@task(
    retries=2,
    retry_delay=EXTRACT_RETRY_DELAY,
    retry_exponential_backoff=True,
    execution_timeout=timedelta(minutes=30),
)
def land(system: str, entity: str) -> dict:
    from ingest.config import Paths
    from ingest.contracts import get
    from warehouse.night import land_entity

    result = land_entity(get(system, entity), _load_date(), Paths.from_env())
    return {
        "batch_id": result.batch.batch_id,
        "status": result.batch.status,
        "rows_read": result.batch.rows_read,
    }


@task(retries=0, execution_timeout=timedelta(minutes=30))
def validate(system: str, entity: str) -> dict:
    from expectations.validate import validate as validate_batch
    from ingest.contracts import get

    batch = validate_batch(get(system, entity), _load_date())
    return {"batch_id": batch.batch_id, "status": batch.status, "rows_quarantined": batch.rows_quarantined}


@task(trigger_rule="all_done", retries=0, execution_timeout=timedelta(hours=2), pool=WRITER_POOL)
def build_warehouse() -> str:
    from airflow.sdk.exceptions import AirflowFailException

    from ingest.config import Paths
    from warehouse.night import build, unloaded_entities

    paths = Paths.from_env()
    if get_current_context()["params"]["strict"] and (missing := unloaded_entities(_load_date(), paths)):
        raise AirflowFailException(f"strict mode: not building, these entities did not load: {missing}")
    return str(build(_load_date(), paths))


@task(retries=0, outlets=[PUBLISHED_WAREHOUSE], pool=WRITER_POOL)
def publish(candidate: str) -> str:
    from pathlib import Path

    from ingest.config import Paths
    from warehouse.night import publish as publish_candidate

    return str(publish_candidate(Path(candidate), _load_date(), Paths.from_env()))


@task(trigger_rule="all_done", retries=0)
def summarise() -> None:
    from ingest.config import Paths
    from warehouse.night import close_night
    from warehouse.summary import print_summary, raise_if_incomplete

    summary = close_night(_load_date(), Paths.from_env())
    print_summary(summary)
    raise_if_incomplete(summary)


@dag(
    dag_id="gridfusion_nightly",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 11, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,  # one warehouse writer at a time: DuckDB allows a single writer per file
    doc_md=__doc__,
    tags=["gridfusion", "nightly"],
    default_args={"on_failure_callback": on_task_failure},
    params={
        "strict": Param(
            False,
            type="boolean",
            description="Build only when every source entity loaded (default: build on what was accepted).",
        )
    },
)
def gridfusion_nightly():
    validated = {}
    for system in SYSTEMS:
        with TaskGroup(group_id=system):
            for contract in for_system(system):
                landed = land.override(task_id=f"land_{contract.entity}")(contract.system, contract.entity)
                # Checked against what its referenced entities accepted, even when one of them was rejected.
                checked = validate.override(
                    task_id=f"validate_{contract.entity}",
                    trigger_rule="all_done" if upstream(contract) else "all_success",
                )(contract.system, contract.entity)
                landed >> checked
                validated[contract.key] = checked
    for contract in CONTRACTS:  # a referenced entity is validated first, across task groups too
        for key in upstream(contract):
            validated[key] >> validated[contract.key]
    candidate = build_warehouse()
    list(validated.values()) >> candidate
    publish(candidate) >> summarise()


gridfusion_nightly()
