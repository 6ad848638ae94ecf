"""`make airflow`: a real local Airflow comes up, accepts the printed login over HTTP and lists our DAGs."""

from __future__ import annotations

import os
import signal
import socket
import time

import httpx
import pytest

from ingest.config import Paths
from warehouse.local_airflow import ADMIN, admin_password, start

STARTUP_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def standalone(tmp_path):
    paths, port = Paths(tmp_path / "home"), _free_port()
    log = tmp_path / "standalone.log"
    process = start(paths, port, log)
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                healthy = httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                healthy = False
            if healthy and (paths.home / "airflow" / "simple_auth_manager_passwords.json.generated").exists():
                break
            time.sleep(2)
        else:
            pytest.fail(f"Airflow did not come up in {STARTUP_SECONDS}s: {log.read_text()[-3000:]}")
        yield base, paths
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)


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
