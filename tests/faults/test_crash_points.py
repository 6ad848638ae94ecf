"""A night killed (SIGKILL) inside each stage, then rerun, publishes what a night that never failed publishes.

One home runs the first night cleanly, then the second night is killed at every crash point in turn, each
run picking up where the killed one stopped, and finally runs through while four readers query the published
files. After every kill the published files are still the first night's, the manifest records no batch as
loaded that is not, and at the end the warehouse equals, table by table, the one the real DAG built.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from expectations.validate import discard_uncommitted
from ingest import manifest
from ingest.config import Paths, partition
from ingest.contracts import CONTRACTS
from ingest.faults import FAULT_ENV, POINTS
from tests.conftest import START, table_fingerprints

DAY1, DAY2 = START, START + timedelta(days=1)
GRIDFUSION = Path(sys.executable).parent / "gridfusion"
READERS = 4
# ops records when and how long each batch took: it differs between any two homes by design
RUN_TIMES = ("ops",)
SIGNATURE = {
    "gridfusion": "select (select count(*) from marts.fct_case), (select count(*) from marts.dim_person), "
    "(select count(*) from ops.batch_history), (select max(load_date) from ops.batch_history)::varchar",
    "analytics": "select (select count(*) from marts.fct_case), (select count(*) from marts.dim_person), "
    "(select count(*) from marts.dim_grid), (select count(*) from marts.dim_organization)",
}
READER = """
import duckdb, json, sys, time
from pathlib import Path
folder, stop, queries = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
while not stop.exists():
    for name, query in queries.items():
        try:
            with duckdb.connect(str(folder / f"{name}.duckdb"), read_only=True) as con:
                print(json.dumps([name, con.sql(query).fetchall()[0]]), flush=True)
        except Exception as error:
            print(json.dumps(["error", f"{name}: {type(error).__name__}: {error}"]), flush=True)
    time.sleep(0.05)
"""


def run_night(paths: Paths, drops: Path, day, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env.update(
        GRIDFUSION_HOME=str(paths.home), GRIDFUSION_DROPS=str(drops), **({FAULT_ENV: fault} if fault else {})
    )
    return subprocess.run(
        [str(GRIDFUSION), "run-night", "--date", day.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def signature(paths: Paths) -> dict[str, tuple]:
    out = {}
    for name, query in SIGNATURE.items():
        with duckdb.connect(str(paths.warehouse_dir / f"{name}.duckdb"), read_only=True) as con:
            out[name] = tuple(con.sql(query).fetchall()[0])
    return out


def manifest_untruths(paths: Paths) -> list[str]:
    """Batches the manifest records as landed or loaded whose rows are not where it says, in that number."""
    problems = []
    for c in CONTRACTS:
        batches = manifest.batches(paths.manifest, c.system, c.entity)
        for b in batches:
            landed = (
                partition(paths.landing_parquet, c, date.fromisoformat(b.load_date)) / f"{b.batch_id}.parquet"
            )
            if b.status in ("landed", "accepted", "rejected") and (
                not landed.exists() or pq.read_metadata(landed).num_rows != b.rows_read - b.duplicates_dropped
            ):
                problems.append(f"{b.batch_id} ({b.status}): not {b.rows_read} rows less copies in {landed}")
        for day in sorted({b.load_date for b in batches}):
            accepted = [b for b in batches if b.load_date == day and b.status == "accepted"]
            if not accepted:
                continue
            standing = accepted[-1]  # the batch whose rows stand for the day
            for root, rows in (
                (paths.accepted, standing.rows_loaded),
                (paths.quarantine, standing.rows_quarantined),
            ):
                target = partition(root, c, date.fromisoformat(day)) / f"{standing.batch_id}.parquet"
                found = pq.read_metadata(target).num_rows if target.exists() else 0
                if found != rows:
                    problems.append(f"{standing.batch_id} (accepted): {found} rows in {target}, not {rows}")
    return problems


@dataclass
class Crash:
    point: str
    returncode: int
    published: dict
    untruths: list[str]
    uncommitted: list[Path] = field(default_factory=list)


@dataclass
class CrashedNights:
    paths: Paths
    first_night: dict
    crashes: list[Crash]
    rerun: subprocess.CompletedProcess
    reads: list
    signatures: dict


@pytest.fixture(scope="module")
def crashed(tmp_path_factory, tiny_drops) -> CrashedNights:
    paths = Paths(tmp_path_factory.mktemp("crashed") / "home")
    first = run_night(paths, tiny_drops, DAY1)
    assert first.returncode == 0, first.stdout + first.stderr
    published = {
        "gridfusion": table_fingerprints(paths.warehouse),
        "analytics": table_fingerprints(paths.analytics),
    }
    before = signature(paths)
    crashes = []
    for point in POINTS:
        killed = run_night(paths, tiny_drops, DAY2, fault=point)
        crash = Crash(
            point,
            killed.returncode,
            {
                "gridfusion": table_fingerprints(paths.warehouse),
                "analytics": table_fingerprints(paths.analytics),
            },
            manifest_untruths(paths),
        )
        # what the build would leave out: files of no accepted batch (it removes them the same way)
        crash.uncommitted = [p for c in CONTRACTS for p in discard_uncommitted(paths, c)]
        crashes.append(crash)

    stop = paths.home / "stop-readers"
    queries = json.dumps(SIGNATURE)
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(paths.warehouse_dir), str(stop), queries],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(READERS)
    ]
    try:
        time.sleep(1)
        rerun = run_night(paths, tiny_drops, DAY2)
        time.sleep(1)
    finally:
        stop.touch()
        reads = [json.loads(line) for r in readers for line in r.communicate(timeout=60)[0].splitlines()]
    return CrashedNights(
        paths, published, crashes, rerun, reads, {"before": before, "after": signature(paths)}
    )


def test_every_crash_point_kills_the_night_where_it_is_named(crashed):
    assert [(c.point, c.returncode) for c in crashed.crashes] == [(p, -signal.SIGKILL) for p in POINTS]


def test_a_killed_night_leaves_yesterdays_published_files_untouched(crashed):
    for crash in crashed.crashes:
        assert crash.published == crashed.first_night, crash.point


def test_the_manifest_never_records_a_batch_as_loaded_that_is_not(crashed):
    assert {c.point: c.untruths for c in crashed.crashes} == {p: [] for p in POINTS}
    assert manifest_untruths(crashed.paths) == []


def test_rows_of_a_validation_killed_before_its_commit_are_left_out_of_the_build(crashed):
    uncommitted = {
        c.point: [p.relative_to(crashed.paths.home).parts[0] for p in c.uncommitted] for c in crashed.crashes
    }
    assert uncommitted["validate.before_commit"] and set(uncommitted["validate.before_commit"]) <= {
        "accepted",
        "quarantine",
    }
    assert all(not found for point, found in uncommitted.items() if point != "validate.before_commit")


def test_the_rerun_publishes_what_a_night_that_never_failed_publishes(crashed, nightly_run):
    assert crashed.rerun.returncode == 0, crashed.rerun.stdout + crashed.rerun.stderr
    releases = nightly_run.paths.warehouse_dir / "releases"
    clean = next(releases.glob(f"gridfusion-{DAY2.isoformat()}-*.duckdb"))
    assert table_fingerprints(crashed.paths.warehouse, RUN_TIMES) == table_fingerprints(clean, RUN_TIMES)
    batches = "select batch_id, status, rows_read, rows_loaded, rows_quarantined from ops.batch_history order by all"
    with (
        duckdb.connect(str(crashed.paths.warehouse), read_only=True) as got,
        duckdb.connect(str(clean), read_only=True) as want,
    ):
        assert got.sql(batches).fetchall() == want.sql(batches).fetchall()
    leftovers = [
        p for p in crashed.paths.home.rglob(".*") if p.name.endswith((".tmp", ".incoming", ".building"))
    ]
    assert leftovers == []


def test_readers_during_a_publish_see_one_whole_night_or_the_other(crashed):
    errors = [detail for kind, detail in crashed.reads if kind == "error"]
    assert errors == []
    seen = {(name, tuple(values)) for name, values in crashed.reads}
    nights = {(name, crashed.signatures[when][name]) for when in ("before", "after") for name in SIGNATURE}
    assert crashed.signatures["before"] != crashed.signatures["after"]
    assert seen <= nights
    assert seen == nights, "the readers did not span the publish"
