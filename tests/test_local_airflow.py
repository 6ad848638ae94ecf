"""`make airflow`: a real local Airflow comes up, accepts the printed login over HTTP and lists our DAGs;
``--backfill`` queues nights through a metadata DB other processes write to."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import date

import httpx
import pytest

from ingest.config import Paths
from tests.conftest import running_airflow
from warehouse.local_airflow import ADMIN, admin_password, airflow, backfill, prepare

REFUSED_BACKFILL = "database is locked\n[SQL: INSERT INTO backfill "  # the write that queues the nights


@pytest.fixture
def standalone(tmp_path):
    paths = Paths(tmp_path / "home")
    with running_airflow(paths, tmp_path / "standalone.log") as base:
        yield base, paths


def test_log_in_and_list_the_dags(standalone):
    base, paths = standalone
    refused = httpx.post(f"{base}/auth/token", json={"username": ADMIN, "password": "wrong"})
    assert refused.status_code in (401, 403)
    token = httpx.post(f"{base}/auth/token", json={"username": ADMIN, "password": admin_password(paths)})
    assert token.status_code in (200, 201), token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert httpx.get(f"{base}/api/v2/dags", timeout=10).status_code == 401
    found: set[str] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "gridfusion_nightly" not in found:
        found = {
            d["dag_id"] for d in httpx.get(f"{base}/api/v2/dags", headers=headers, timeout=10).json()["dags"]
        }
        time.sleep(2)
    assert {"gridfusion_nightly", "gridfusion_dashboard_refresh"} <= found
    nightly = httpx.get(f"{base}/api/v2/dags/gridfusion_nightly/details", headers=headers, timeout=10).json()
    assert nightly["timetable_summary"] == "0 2 * * *"


def test_a_backfill_that_fails_says_why(tmp_path):
    with pytest.raises(RuntimeError, match=r"(?s)backfill create.*airflow db migrate"):
        backfill(Paths(tmp_path / "home"), date(2026, 11, 1), date(2026, 11, 2), tmp_path / "airflow.log")


def test_a_backfill_that_lost_the_metadata_lock_is_queued_by_its_second_try(tmp_path):
    """Another process holds the metadata DB's write lock until the backfill's first try gave up on it.

    The CLI's audit-log write waits for the lock first and only warns when refused; the lock is let go once
    the backfill's own write was refused, so the command failed and only a second try can queue the nights.
    """
    paths, log = Paths(tmp_path / "home"), tmp_path / "airflow.log"
    prepare(paths, log)
    assert airflow(["dags", "reserialize"], paths, log) == 0, log.read_text()[-3000:]
    writer = sqlite3.connect(
        paths.home / "airflow" / "airflow.db", isolation_level=None, check_same_thread=False
    )
    writer.execute("BEGIN IMMEDIATE")

    def release_once_refused() -> None:
        while REFUSED_BACKFILL not in log.read_text():
            time.sleep(0.5)
        writer.execute("ROLLBACK")

    releaser = threading.Thread(target=release_once_refused, daemon=True)
    releaser.start()
    backfill(paths, date(2026, 11, 1), date(2026, 11, 2), log)
    releaser.join(timeout=0)
    assert not releaser.is_alive()
    assert log.read_text().count(REFUSED_BACKFILL) == 1
    metadata = sqlite3.connect(paths.home / "airflow" / "airflow.db")
    assert metadata.execute("select count(*) from backfill").fetchone() == (1,)
    assert metadata.execute("select count(*) from dag_run where run_type = 'backfill'").fetchone() == (2,)
