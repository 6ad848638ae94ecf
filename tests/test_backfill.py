"""A backfill through the real scheduler: three nights queued at once run one at a time, oldest first, and
publish the same warehouse as the nights run one by one."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import httpx
import pytest

from ingest.config import Paths, load_date_for
from tests.conftest import DAYS, START, running_airflow, table_fingerprints
from warehouse.backfill import NIGHTLY_DAG, backfill_window
from warehouse.local_airflow import ADMIN, admin_password, backfill, prepare

BACKFILL_SECONDS = 1500
LAST = START + timedelta(days=DAYS - 1)


def _api(base: str, paths: Paths) -> httpx.Client:
    token = httpx.post(f"{base}/auth/token", json={"username": ADMIN, "password": admin_password(paths)})
    token.raise_for_status()
    return httpx.Client(
        base_url=f"{base}/api/v2",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=30,
    )


def _wait_for_dag(api: httpx.Client) -> None:
    deadline = time.monotonic() + 300
    while api.get(f"/dags/{NIGHTLY_DAG}").status_code != 200:
        assert time.monotonic() < deadline, "the dag-processor did not parse gridfusion_nightly in 300s"
        time.sleep(2)


def _at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)


def _task_instances(api: httpx.Client, run_id: str) -> dict[str, dict]:
    found = api.get(f"/dags/{NIGHTLY_DAG}/dagRuns/{run_id}/taskInstances", params={"limit": 100}).json()
    return {ti["task_id"]: ti for ti in found["task_instances"]}


def _wait_for_runs(api: httpx.Client, log) -> list[dict]:
    """The backfill's runs once all of them finished; fails naming unfinished tasks and the log's tail."""
    deadline = time.monotonic() + BACKFILL_SECONDS
    while True:
        runs = api.get(f"/dags/{NIGHTLY_DAG}/dagRuns", params={"run_type": "backfill", "limit": 100}).json()
        runs = sorted(runs["dag_runs"], key=lambda r: r["logical_date"])
        if len(runs) == DAYS and all(r["state"] in ("success", "failed") for r in runs):
            break
        if time.monotonic() > deadline:
            states = {
                r["dag_run_id"]: {t: ti["state"] for t, ti in _task_instances(api, r["dag_run_id"]).items()}
                for r in runs
            }
            pytest.fail(f"backfill not done in {BACKFILL_SECONDS}s: {states}\n{log.read_text()[-5000:]}")
        time.sleep(5)
    not_green = {
        r["dag_run_id"]: {t: ti["state"] for t, ti in _task_instances(api, r["dag_run_id"]).items()}
        for r in runs
        if r["state"] != "success"
    }
    assert not not_green, f"{not_green}\n{log.read_text()[-5000:]}"
    return runs


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory, tiny_drops):
    """The tiny nights START .. LAST backfilled by ``airflow standalone``'s scheduler; yields the home and
    the runs with their task instances, oldest first."""
    folder = tmp_path_factory.mktemp("backfill")
    paths, log = Paths(folder / "home"), folder / "airflow.log"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRIDFUSION_DROPS", str(tiny_drops))
        env.setenv("GRIDFUSION_EXTRACT_RETRY_DELAY_SECONDS", "0.5")
        env.setenv("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False")  # only the backfill's runs, no "today"
        prepare(paths, log)
        with running_airflow(paths, log) as base, _api(base, paths) as api:
            _wait_for_dag(api)
            backfill(paths, START, LAST, log)
            runs = _wait_for_runs(api, log)
            yield paths, [(run, _task_instances(api, run["dag_run_id"])) for run in runs]


def test_the_window_covers_the_runs_that_load_each_day():
    first, last = (datetime.fromisoformat(edge) for edge in backfill_window(START, LAST))
    assert load_date_for(first) == START and load_date_for(last) == LAST
    with pytest.raises(ValueError, match="before"):
        backfill_window(LAST, START)


def test_each_night_loads_its_own_day(backfilled):
    paths, runs = backfilled
    loaded = [load_date_for(datetime.fromisoformat(run["data_interval_start"])) for run, _ in runs]
    assert loaded == [START + timedelta(days=n) for n in range(DAYS)]
    assert sorted(p.stem for p in (paths.reports / "run_summary").glob("*.json")) == [
        d.isoformat() for d in loaded
    ]


def test_nights_run_one_at_a_time_oldest_first(backfilled):
    _, runs = backfilled
    for (_, before), (_, after) in zip(runs, runs[1:], strict=False):
        assert _at(after["build_warehouse"]["start_date"]) > _at(before["publish"]["end_date"])
        assert min(_at(ti["start_date"]) for ti in after.values()) > max(
            _at(ti["end_date"]) for ti in before.values()
        )
    for _, tis in runs:
        assert tis["build_warehouse"]["pool"] == tis["publish"]["pool"] == "duckdb_writer"


def test_the_published_warehouse_is_the_one_the_nights_build_in_order(backfilled, nightly_run):
    paths, _ = backfilled
    ops = ("ops",)  # when and how long each batch took differs between any two runs by design
    assert table_fingerprints(paths.warehouse, ops) == table_fingerprints(nightly_run.paths.warehouse, ops)
