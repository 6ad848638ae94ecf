"""What the night meets outside its own code: a full disk, a file held by another writer, a hung source."""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingest import manifest
from ingest.config import Paths, partition
from ingest.connectors.gov_api import TIMEOUT_ENV, TOKEN_ENV, URL_ENV
from ingest.connectors.paged_api import FetchError
from ingest.contracts import get
from ingest.landing import land
from simulator.server import Faults
from tests.conftest import START, table_fingerprints
from tests.test_http_api import TOKEN, serving
from warehouse.file_lock import WAIT_ENV, DatabaseLocked
from warehouse.night import land_entity
from warehouse.publish import publish
from warehouse.summary import summarise

MEMBERS, ORGANIZATIONS, RESIDENTS = (
    get("party", "members"),
    get("party", "organizations"),
    get("gov", "residents"),
)
PAGE = 4096


class SmallDisk:
    """A folder on its own small disk (a tmpfs) that ``fill`` fills up to ``free_bytes``; where mounting is not
    permitted (some CI runners), ``fill`` sets a file size limit (RLIMIT_FSIZE) on this process instead."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        self.sigxfsz = signal.getsignal(signal.SIGXFSZ)

    def __enter__(self) -> SmallDisk:
        self.folder.mkdir(parents=True)
        mount = ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(self.folder)]
        try:
            self.mounted = subprocess.run(mount, capture_output=True).returncode == 0
        except OSError:  # no mount command at all
            self.mounted = False
        return self

    def fill(self, free_bytes: int) -> None:
        if self.mounted:
            stat = os.statvfs(self.folder)
            (self.folder / ".ballast").write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - free_bytes))
        else:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails, not the process
            resource.setrlimit(resource.RLIMIT_FSIZE, (free_bytes, self.limits[1]))

    def make_room(self) -> None:
        if self.mounted:
            (self.folder / ".ballast").unlink(missing_ok=True)
        else:
            resource.setrlimit(resource.RLIMIT_FSIZE, self.limits)
            signal.signal(signal.SIGXFSZ, self.sigxfsz)

    def __exit__(self, *exc) -> None:
        self.make_room()
        if self.mounted:
            subprocess.run(["umount", "--lazy", str(self.folder)], check=True)


def test_a_full_disk_fails_the_landing_by_name_and_loses_nothing(tmp_path, tiny_drops, monkeypatch):
    monkeypatch.setenv("GRIDFUSION_DROPS", str(tiny_drops))
    raw = sum(
        -(-f.stat().st_size // PAGE) * PAGE
        for f in (tiny_drops / "party" / START.isoformat()).glob(MEMBERS.file_glob)
    )
    clean = land(MEMBERS, START, Paths(tmp_path / "clean-home")).batch
    with SmallDisk(tmp_path / "disk") as disk:
        paths = Paths(disk.folder / "home")
        land(ORGANIZATIONS, START, paths)  # loaded before the disk filled up
        disk.fill(free_bytes=raw + PAGE)  # room for the raw copy of the members extract, not for its Parquet
        organizations = pq.read_table(
            next(partition(paths.landing_parquet, ORGANIZATIONS, START).glob("*.parquet"))
        )
        with pytest.raises(
            OSError, match=r"could not write .*/members-.*\.parquet: .*(No space left|too large)"
        ):
            land(MEMBERS, START, paths)
        failed = manifest.of_night(paths.manifest, "party", "members", START)
        assert (failed.status, failed.batch_id) == ("failed", clean.batch_id)
        assert re.search(
            r"party.members: could not write .*\.parquet: .*(No space left|too large)", failed.message
        )
        assert [p for p in paths.home.rglob("*") if p.name.endswith(".tmp")] == []  # no half-written file
        assert not list(partition(paths.landing_parquet, MEMBERS, START).glob("*.parquet"))
        assert pq.read_table(
            next(partition(paths.landing_parquet, ORGANIZATIONS, START).glob("*.parquet"))
        ).equals(organizations)

        disk.make_room()  # with room again the same landing goes through as if the disk had never been full
        retried = land(MEMBERS, START, paths).batch
    assert (retried.batch_id, retried.status, retried.rows_read) == (
        clean.batch_id,
        "landed",
        clean.rows_read,
    )


HOLD = (
    "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(300)"
)


def test_a_published_file_held_by_another_writer_is_not_replaced(tmp_path, nightly_run, monkeypatch):
    home = Paths(tmp_path / "home")
    shutil.copytree(nightly_run.paths.warehouse_dir, home.warehouse_dir)
    candidate = home.warehouse_dir / "candidates" / "gridfusion-2026-11-02.duckdb"
    candidate.parent.mkdir(exist_ok=True)
    shutil.copyfile(next((home.warehouse_dir / "releases").glob("gridfusion-2026-11-02-*.duckdb")), candidate)
    built, published = table_fingerprints(candidate), table_fingerprints(home.warehouse)
    assert built != published
    releases = sorted((home.warehouse_dir / "releases").iterdir())
    monkeypatch.setenv(WAIT_ENV, "1.5")

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home.warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "held\n"
        started = time.monotonic()
        with pytest.raises(
            DatabaseLocked, match=rf"{home.warehouse} is held open for writing .*PID {holder.pid}"
        ):
            publish(candidate, date(2026, 11, 2), home)
        assert 1.5 <= time.monotonic() - started < 10  # it waited for the writer, then gave up
    finally:
        holder.kill()
        holder.wait()
    assert table_fingerprints(home.warehouse) == published
    assert candidate.exists() and sorted((home.warehouse_dir / "releases").iterdir()) == releases

    publish(candidate, date(2026, 11, 2), home)  # the writer let go: the same candidate is published
    assert table_fingerprints(home.warehouse) == built


def test_a_hung_source_fails_its_entity_by_name_within_the_timeout(tiny_drops, own_drops, home, monkeypatch):
    shutil.rmtree(own_drops / "gov" / START.isoformat())  # only the API can deliver the gov extracts
    hanging = Faults(slow_pages=frozenset({("residents", 2)}), slow_s=120)
    with serving(tiny_drops, hanging) as server:
        monkeypatch.setenv(URL_ENV, server.url)
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        monkeypatch.setenv(TIMEOUT_ENV, "2")
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"page=2 failed on page 2: no answer within"):
            land_entity(RESIDENTS, START, home)
        assert time.monotonic() - started < 10
    night = {e["source_entity"]: e for e in summarise(START, home)["entities"]}
    assert night["gov.residents"]["status"] == "failed"
    assert re.search(
        r"gov.residents: GET .*/api/residents\?date=2026-11-01&page=2 failed",
        night["gov.residents"]["message"],
    )
