"""`make airflow`: a real local Airflow comes up, accepts the printed login over HTTP and lists our DAGs."""

from __future__ import annotations

import time

import httpx
import pytest

from ingest.config import Paths
from tests.conftest import running_airflow
from warehouse.local_airflow import ADMIN, admin_password


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
