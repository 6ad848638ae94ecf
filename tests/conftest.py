"""Shared fixtures: a tiny simulated city, an isolated gridfusion home, and one real nightly DAG run."""

from __future__ import annotations

import json
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from ingest.config import Paths
from simulator.generate import generate

# Airflow reads its home on import: keep tests away from ~/airflow and the example DAGs.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="gridfusion-test-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
# One pseudonym key for every run in the session, so warehouses built by different paths can be compared.
os.environ.setdefault("GRIDFUSION_PSEUDONYM_KEY", "test-only-pseudonym-key")

START = date(2026, 11, 1)
DAYS = 3


@dataclass(frozen=True)
class Truth:
    folder: Path

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.folder / f"{name}.parquet")

    @property
    def summary(self) -> dict:
        return json.loads((self.folder / "summary.json").read_text())


@pytest.fixture(scope="session")
def tiny_drops(tmp_path_factory) -> Path:
    """Two days of the ``tiny`` preset's drops (read-only for tests: copy before mutating)."""
    out = tmp_path_factory.mktemp("drops")
    generate("tiny", out, days=DAYS, start=START)
    return out


@pytest.fixture(scope="session")
def truth(tiny_drops) -> Truth:
    return Truth(tiny_drops / "truth")


@pytest.fixture
def home(tmp_path, tiny_drops, monkeypatch) -> Paths:
    """A fresh gridfusion home reading the shared tiny drops."""
    monkeypatch.setenv("GRIDFUSION_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDFUSION_DROPS", str(tiny_drops))
    return Paths.from_env()


@pytest.fixture
def own_drops(tmp_path, tiny_drops, monkeypatch) -> Path:
    """A private copy of the tiny drops that a test may damage."""
    import shutil

    target = tmp_path / "drops"
    shutil.copytree(tiny_drops, target)
    monkeypatch.setenv("GRIDFUSION_DROPS", str(target))
    return target


def table_fingerprints(database: Path, exclude_schemas: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every table, to compare two warehouses table by table."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        tables = [
            (schema, table)
            for schema, table in con.sql(
                "select schema_name, table_name from duckdb_tables() order by all"
            ).fetchall()
            if schema not in exclude_schemas
        ]
        return {
            f"{s}.{t}": tuple(
                con.sql(f"select count(*), coalesce(sum(hash(x)::hugeint), 0) from {s}.{t} as x").fetchall()[
                    0
                ]
            )
            for s, t in tables
        }


AIRFLOW_STARTUP_SECONDS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_airflow(paths: Paths, log: Path) -> Iterator[str]:
    """``airflow standalone`` over ``paths`` on a free port, up and healthy; yields its base URL."""
    import httpx

    from warehouse.local_airflow import start, stop

    port = free_port()
    process = start(paths, port, log)
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + AIRFLOW_STARTUP_SECONDS
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
            pytest.fail(f"Airflow did not come up in {AIRFLOW_STARTUP_SECONDS}s: {log.read_text()[-3000:]}")
        yield base
    finally:
        stop(process)


@dataclass(frozen=True)
class NightlyRun:
    paths: Paths
    exit_codes: dict[date, int]
    log: Path
    rerun_exit_code: int
    fingerprints_before_rerun: dict
    fingerprints_after_rerun: dict


def _real_nights(
    home: Path, drops: Path, days: list[date], conf: dict | None = None
) -> tuple[Paths, dict, Path]:
    from simulator.demo import run_night
    from warehouse.local_airflow import airflow

    old = os.environ.get("GRIDFUSION_DROPS")
    os.environ["GRIDFUSION_DROPS"] = str(drops)
    os.environ["GRIDFUSION_EXTRACT_RETRY_DELAY_SECONDS"] = "0.5"  # a missing extract is retried, quickly
    try:
        paths = Paths(home)
        log = home / "airflow.log"
        assert airflow(["db", "migrate"], paths, log) == 0, log.read_text()[-3000:]
        codes = {day: run_night(day, paths, log, conf) for day in days}
    finally:
        if old is None:
            os.environ.pop("GRIDFUSION_DROPS")
        else:
            os.environ["GRIDFUSION_DROPS"] = old
    return paths, codes, log


@pytest.fixture(scope="session")
def nightly_run(tmp_path_factory, tiny_drops) -> NightlyRun:
    """The real DAG, run by ``airflow dags test`` once per simulated day in order (a backfill), then the last
    night once more (a rerun)."""
    days = [START + timedelta(days=n) for n in range(DAYS)]
    home = tmp_path_factory.mktemp("nightly")
    paths, codes, log = _real_nights(home, tiny_drops, days)
    before = table_fingerprints(paths.warehouse)
    _, rerun, _ = _real_nights(home, tiny_drops, days[-1:])
    return NightlyRun(paths, codes, log, rerun[days[-1]], before, table_fingerprints(paths.warehouse))


@pytest.fixture(scope="session")
def broken_source_drops(tmp_path_factory, tiny_drops) -> Path:
    """The tiny drops with the city system's cases extract missing on the first day."""
    import shutil

    target = tmp_path_factory.mktemp("broken") / "drops"
    shutil.copytree(tiny_drops, target)
    (target / "city" / START.isoformat() / "cases.csv").unlink()
    return target


@pytest.fixture(scope="session")
def broken_source_night(tmp_path_factory, broken_source_drops):
    return _real_nights(tmp_path_factory.mktemp("broken-night"), broken_source_drops, [START])


@pytest.fixture(scope="session")
def broken_source_strict_night(tmp_path_factory, broken_source_drops):
    return _real_nights(
        tmp_path_factory.mktemp("broken-strict"), broken_source_drops, [START], {"strict": True}
    )


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture
def html_tables():
    """Reads a page as its tables: each a list of rows, each row a list of cell texts (header row first)."""

    def read(page: str) -> list[list[list[str]]]:
        parser = _Tables()
        parser.feed(page)
        return parser.tables

    return read
