"""Publish a built candidate: atomic swap into place, keep earlier versions, export de-identified marts.

Readers that opened the previous file keep reading it (the swap is a rename on the same filesystem), new
readers see the new one, nobody ever sees a half-written file, and a failed night publishes nothing. Both
new files are complete beside the published ones before either is swapped in, and a night's file becomes a
release only once published, so ``releases/`` holds nothing that was never published. A published file
held open for writing by another process is not replaced (``warehouse.file_lock``).

DuckDB opens a database file by its path more than once: it reads the headers, closes the file, then opens
the path again and follows those headers to the blocks. A reader whose open spans the swap therefore reads
the new file's blocks through the old file's headers. So each new file starts as a byte copy of the one it
replaces and takes its new contents in one transaction: DuckDB's one checkpoint writes them around every
block the old headers point to, and such a reader sees the previous night whole instead of a mix. A candidate
built that way already (a copy of the published file, written in one checkpoint: ``warehouse.build``) is
renamed into place instead of being copied again.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingest import faults
from ingest.config import Paths
from warehouse.file_lock import wait_until_free

log = logging.getLogger(__name__)

KEEP_RELEASES_ENV = "GRIDFUSION_KEEP_RELEASES"
DEFAULT_KEEP_RELEASES = 7
PUBLIC_SCHEMA = "marts"
# What publishing's DuckDB may hold before it spills beside the file it writes. Left to itself it takes up to
# 80 % of the machine, and copying a city's warehouse took it past 10 GiB.
PUBLISH_MEMORY_LIMIT = "4GB"
# A DuckDB file starts with its main header and then two database headers, a 4 KiB block each. A checkpoint
# writes the next header (its iteration counted up by one) over the older of the two.
HEADER_BLOCK = 4096


@dataclass(frozen=True)
class Published:
    warehouse: Path
    analytics: Path
    release: Path
    moved: bool  # the candidate itself became the published file (no copy needed)


def keep_releases() -> int:
    """How many published nights stay in ``releases/`` for a roll-back. Each one a later night has
    rewritten is a whole warehouse file on disk, so a city with little disk keeps fewer."""
    setting = os.environ.get(KEEP_RELEASES_ENV, str(DEFAULT_KEEP_RELEASES))
    if not setting.isdigit() or int(setting) < 1:
        raise ValueError(f"{KEEP_RELEASES_ENV}={setting!r}: expected a whole number of releases, at least 1")
    return int(setting)


def _wal(database: Path) -> Path:
    return database.with_name(f"{database.name}.wal")


@contextmanager
def _successor(published: Path, staged: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to ``staged``, a byte copy of ``published`` (a new file when nothing is published yet),
    in one open transaction: what the caller writes is committed, and so checkpointed, at once.

    A killed run's leftovers go first: DuckDB would replay a stale write-ahead log into the new file.
    """
    for stale in (staged, _wal(staged)):
        stale.unlink(missing_ok=True)
    if published.exists():
        shutil.copyfile(published, staged)
    with duckdb.connect(str(staged), config={"memory_limit": PUBLISH_MEMORY_LIMIT}) as con:
        con.execute("begin")
        yield con
        con.execute("commit")
    if _wal(staged).exists():
        raise RuntimeError(f"{staged} still has a write-ahead log after its commit; refusing to publish it")


def _database_headers(database: Path) -> tuple[bytes, list[tuple[int, bytes]]]:
    """A DuckDB file's main header, and each database header's iteration with its bytes."""
    with database.open("rb") as file:
        head = file.read(3 * HEADER_BLOCK)
    slots = (head[at : at + HEADER_BLOCK] for at in (HEADER_BLOCK, 2 * HEADER_BLOCK))
    return head[:HEADER_BLOCK], [(int.from_bytes(slot[8:16], "little"), slot) for slot in slots]


def written_once_over(candidate: Path, published: Path) -> bool:
    """Whether ``candidate`` is ``published`` and one checkpoint more: its older database header is, byte for
    byte, the published file's current one, and its newer header the next iteration.

    A checkpoint writes around every block of the header it replaces, so the blocks the published headers
    point to are untouched in such a candidate: a reader whose open spans the swap reads the previous night.
    A second checkpoint may reuse those blocks, and a published file written to since the candidate was
    copied has another current header; neither passes.
    """
    published_main, published_slots = _database_headers(published)
    candidate_main, candidate_slots = _database_headers(candidate)
    current = max((0, 1), key=lambda slot: published_slots[slot][0])
    return (
        candidate_main == published_main
        and candidate_slots[current] == published_slots[current]
        and candidate_slots[1 - current][0] == published_slots[current][0] + 1
    )


def _stage(source: Path, target: Path) -> Path:
    """``source``'s contents under a hidden name beside ``target``, ready to be renamed over it."""
    staged = target.with_name(f".{target.name}.incoming")
    with _successor(target, staged) as con:
        into = con.execute("select current_database()").fetchall()[0][0]
        schemas = con.execute(
            "select schema_name from duckdb_schemas() where database_name = ? and not internal", [into]
        ).fetchall()
        for (schema,) in schemas:
            con.execute(f'drop schema "{schema}" cascade')
        tables = con.execute(
            "select table_name from duckdb_tables() where database_name = ? and schema_name = 'main'", [into]
        ).fetchall()
        for (table,) in tables:
            con.execute(f'drop table main."{table}"')
        con.execute(f"attach '{source}' as source (read_only)")
        con.execute(f'copy from database source to "{into}"')
        con.execute("detach source")
    return staged


def export_analytics(candidate: Path, target: Path) -> Path:
    """A marts-only copy for BI tools, staged beside ``target``: no staging or intermediate tables, hence no
    clear personal data. Returns the staged file."""
    staged = target.with_name(f".{target.name}.building")
    with _successor(target, staged) as con:
        con.execute(f"attach '{candidate}' as candidate (read_only)")
        con.execute(f"drop schema if exists {PUBLIC_SCHEMA} cascade")
        con.execute(f"create schema {PUBLIC_SCHEMA}")
        tables = con.execute(
            "select table_name from duckdb_tables() where database_name = 'candidate' and schema_name = ?",
            [PUBLIC_SCHEMA],
        ).fetchall()
        for (name,) in tables:
            con.execute(
                f"create table {PUBLIC_SCHEMA}.{name} as select * from candidate.{PUBLIC_SCHEMA}.{name}"
            )
        con.execute("detach candidate")
    return staged


def _swap_in(warehouse: Path, paths: Paths, movable: bool) -> bool:
    """Make ``warehouse``'s contents the published ones, with their analytics export; both are staged before
    either moves. A ``movable`` file written once over the published one is renamed into place itself;
    returns whether it was."""
    for published in (paths.warehouse, paths.analytics):
        wait_until_free(published)
    move = movable and (not paths.warehouse.exists() or written_once_over(warehouse, paths.warehouse))
    if movable and not move:
        log.warning("%s is not the published warehouse plus one checkpoint: publishing a copy", warehouse)
    analytics = export_analytics(warehouse, paths.analytics)
    staged = warehouse if move else _stage(warehouse, paths.warehouse)
    faults.reached("publish.before_swap")
    os.replace(staged, paths.warehouse)
    os.replace(analytics, paths.analytics)
    return move


def _keep_as(release: Path, published: Path) -> None:
    """Make ``release`` a hard link to the published file, so that ``published_release`` finds it. A release
    published again (a roll-back) is replaced by its successor in one rename."""
    release.parent.mkdir(parents=True, exist_ok=True)
    if not release.exists():
        os.link(published, release)
        return
    linked = release.with_name(f".{release.name}.incoming")
    linked.unlink(missing_ok=True)
    os.link(published, linked)
    os.replace(linked, release)


def releases(paths: Paths) -> list[Path]:
    """The kept releases, oldest first."""
    return sorted((paths.warehouse_dir / "releases").glob("gridfusion-*.duckdb"))


def publish(candidate: Path, load_date: date, paths: Paths | None = None) -> Published:
    paths = paths or Paths.from_env()
    keep = keep_releases()  # a bad setting stops the night before anything moves
    moved = _swap_in(candidate, paths, movable=True)
    release = (
        paths.warehouse_dir
        / "releases"
        / f"gridfusion-{load_date.isoformat()}-{datetime.now():%Y%m%dT%H%M%S}.duckdb"
    )
    _keep_as(release, paths.warehouse)
    if not moved:
        candidate.unlink()
    for old in releases(paths)[:-keep]:
        old.unlink()
    return Published(paths.warehouse, paths.analytics, release, moved)


def published_release(paths: Paths) -> Path | None:
    """The release that is published: the published warehouse is a hard link to it."""
    found = [r for r in releases(paths) if paths.warehouse.exists() and r.samefile(paths.warehouse)]
    return found[0] if found else None


def roll_back(release: Path | None = None, paths: Paths | None = None) -> Path:
    """Publish an earlier release again (by default the one before the published one); returns it.

    A later night publishes over the rolled-back release as usual.
    """
    paths = paths or Paths.from_env()
    kept = releases(paths)
    if release is None:
        current = published_release(paths)
        if current is None or kept.index(current) == 0:
            raise LookupError(
                f"no release before the published one in {paths.warehouse_dir / 'releases'}; name one"
            )
        release = kept[kept.index(current) - 1]
    if release not in kept:
        raise LookupError(f"{release} is not a kept release; kept: {', '.join(r.name for r in kept)}")
    _swap_in(release, paths, movable=False)  # a kept release stays where it is
    _keep_as(release, paths.warehouse)
    return release
