"""Publishing: only a passing build is published, atomically; readers keep a consistent view."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from expectations.validate import validate
from ingest.config import partition
from ingest.contracts import get
from ingest.landing import land
from ingest.references import validation_order
from tests.conftest import table_fingerprints
from warehouse.build import WarehouseBuildFailed, build
from warehouse.publish import HEADER_BLOCK, publish, written_once_over

DAY1, DAY2 = date(2026, 11, 1), date(2026, 11, 2)
# A DuckDB file's main header and its two database headers (warehouse.publish.HEADER_BLOCK each). Opening a
# file, DuckDB reads these, closes the file, then opens the path again and reads the blocks they point to
# (strace shows three opens of the path, no read of the headers after the last one).
HEADERS = 3 * HEADER_BLOCK


def _load(day: date, paths) -> None:
    for contract in validation_order():
        land(contract, day, paths)
        validate(contract, day, paths)


def _count(path, table: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(f"select count(*) from {table}").fetchall()[0][0]


def test_failed_build_leaves_the_published_warehouse_in_place(home):
    _load(DAY1, home)
    publish(build(DAY1, home).candidate, DAY1, home)
    published = home.warehouse.read_bytes()

    # a worker pointing at a grid that does not exist breaks a dbt relationships test
    workers = get("city", "grid_workers")
    folder = partition(home.accepted, workers, DAY1)
    accepted = next(folder.glob("*.parquet"))
    table = pq.read_table(accepted)
    rows = table.to_pylist()
    rows[0]["grid_code"] = "2102029999999999"
    pq.write_table(table.from_pylist(rows, schema=table.schema), accepted)

    with pytest.raises(WarehouseBuildFailed, match="relationships"):
        build(DAY2, home)
    assert home.warehouse.read_bytes() == published


def test_a_reader_keeps_its_view_while_a_new_warehouse_is_published(home):
    _load(DAY1, home)
    publish(build(DAY1, home).candidate, DAY1, home)
    before = _count(home.warehouse, "marts.fct_case")
    with duckdb.connect(str(home.warehouse), read_only=True) as reader:
        _load(DAY2, home)
        publish(build(DAY2, home).candidate, DAY2, home)
        assert reader.sql("select count(*) from marts.fct_case").fetchall()[0][0] == before
    after = _count(home.warehouse, "marts.fct_case")
    assert after > before
    assert _count(home.analytics, "marts.fct_case") == after


def _read_through(headers: bytes, published: Path, scratch: Path) -> dict:
    """What a reader reads when the swap lands between its two opens: the new file's blocks followed from
    the old file's headers."""
    spliced = scratch / published.name
    shutil.copyfile(published, spliced)
    with spliced.open("r+b") as out:
        out.write(headers)
    return table_fingerprints(spliced)


def test_a_reader_whose_open_spans_the_swap_sees_the_previous_night_whole(home, tmp_path):
    _load(DAY1, home)
    publish(build(DAY1, home).candidate, DAY1, home)
    night1 = {p: (p.read_bytes()[:HEADERS], table_fingerprints(p)) for p in (home.warehouse, home.analytics)}
    _load(DAY2, home)
    assert publish(build(DAY2, home).candidate, DAY2, home).moved  # the build checkpointed once, not copied
    for published, (headers, tables) in night1.items():
        assert table_fingerprints(published) != tables, published.name
        assert _read_through(headers, published, tmp_path) == tables, published.name


def _write(database: Path, *statements: str) -> None:
    with duckdb.connect(str(database)) as con:
        for statement in statements:
            con.execute(statement)


def test_only_a_copy_of_the_published_file_written_in_one_checkpoint_is_moved(tmp_path):
    published, candidate = tmp_path / "published.duckdb", tmp_path / "candidate.duckdb"
    _write(published, "create table night as select range as n from range(300000)")

    def copy_and(*statements: str) -> Path:
        shutil.copyfile(published, candidate)
        _write(candidate, *statements)
        return candidate

    assert written_once_over(copy_and("create or replace table night as select 2 as n"), published)
    assert not written_once_over(copy_and("select 1"), published)  # nothing written: no checkpoint either
    two_checkpoints = copy_and(
        "create or replace table night as select 2 as n", "checkpoint", "create table x (n int)"
    )
    assert not written_once_over(two_checkpoints, published)
    copy_and("create or replace table night as select 2 as n")
    _write(published, "create table since as select 1 as n")  # the published file changed after the copy
    assert not written_once_over(candidate, published)


def test_an_earlier_release_can_be_published_again(tmp_path, nightly_run):
    from ingest.config import Paths
    from tests.conftest import table_fingerprints
    from warehouse.publish import releases, roll_back

    paths = Paths(tmp_path / "home")
    shutil.copytree(nightly_run.paths.warehouse_dir, paths.warehouse_dir)
    first, second = releases(paths)[:2]
    assert roll_back(second, paths) == second
    assert table_fingerprints(paths.warehouse) == table_fingerprints(second)
    marts = {k: v for k, v in table_fingerprints(second).items() if k.startswith("marts.")}
    assert table_fingerprints(paths.analytics) == marts
    assert roll_back(paths=paths) == first  # by default, the release before the published one
    assert table_fingerprints(paths.warehouse) == table_fingerprints(first)
    with pytest.raises(LookupError, match="no release before the published one"):
        roll_back(paths=paths)


def _candidate(folder: Path, night: int) -> Path:
    """A stand-in candidate: publishing copies whatever tables it holds."""
    candidate = folder / f"candidate-{night}.duckdb"
    with duckdb.connect(str(candidate)) as con:
        con.execute(f"create schema marts; create table marts.night as select {night} as night")
    return candidate


def test_publish_keeps_as_many_releases_as_set(tmp_path, monkeypatch):
    from ingest.config import Paths
    from warehouse.publish import releases

    paths = Paths(tmp_path / "home")
    paths.warehouse_dir.mkdir(parents=True)
    monkeypatch.setenv("GRIDFUSION_KEEP_RELEASES", "2")
    for night in (1, 2, 3):
        publish(_candidate(tmp_path, night), date(2026, 11, night), paths)
    kept = releases(paths)
    assert [r.name[len("gridfusion-") :][:10] for r in kept] == ["2026-11-02", "2026-11-03"]
    assert kept[-1].samefile(paths.warehouse)

    monkeypatch.setenv("GRIDFUSION_KEEP_RELEASES", "0")
    fourth = _candidate(tmp_path, 4)
    with pytest.raises(ValueError, match="GRIDFUSION_KEEP_RELEASES='0'"):
        publish(fourth, date(2026, 11, 4), paths)
    assert fourth.exists() and releases(paths) == kept
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.sql("select night from marts.night").fetchall() == [(3,)]
