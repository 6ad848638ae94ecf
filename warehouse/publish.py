"""Publish a built candidate: atomic swap into place, keep earlier versions, export de-identified marts.

Readers that opened the previous file keep reading it (the swap is a rename on the same filesystem), new
readers see the new one, nobody ever sees a half-written file, and a failed night publishes nothing. Both
new files are complete beside the published ones before either is swapped in, and the candidate becomes a
release only once published, so ``releases/`` holds nothing that was never published. A published file
held open for writing by another process is not replaced (``warehouse.file_lock``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingest import faults
from ingest.config import Paths
from warehouse.file_lock import wait_until_free

KEEP_RELEASES = 7
PUBLIC_SCHEMA = "marts"


@dataclass(frozen=True)
class Published:
    warehouse: Path
    analytics: Path
    release: Path


def _stage(source: Path, target: Path) -> Path:
    """``source`` under a hidden name beside ``target``, ready to be renamed over it; a hard link avoids
    copying a large file."""
    staged = target.with_name(f".{target.name}.incoming")
    staged.unlink(missing_ok=True)
    try:
        os.link(source, staged)
    except OSError:
        shutil.copyfile(source, staged)
    return staged


def export_analytics(candidate: Path, target: Path) -> Path:
    """A marts-only copy for BI tools, staged beside ``target``: no staging or intermediate tables, hence no
    clear personal data. Returns the staged file."""
    staged = target.with_name(f".{target.name}.building")
    staged.unlink(missing_ok=True)
    with duckdb.connect(str(staged)) as con:
        con.execute(f"attach '{candidate}' as candidate (read_only)")
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


def _swap_in(warehouse: Path, paths: Paths) -> None:
    """Make ``warehouse`` the published one, with its analytics export; both are staged before either moves."""
    for published in (paths.warehouse, paths.analytics):
        wait_until_free(published)
    analytics = export_analytics(warehouse, paths.analytics)
    staged = _stage(warehouse, paths.warehouse)
    faults.reached("publish.before_swap")
    os.replace(staged, paths.warehouse)
    os.replace(analytics, paths.analytics)


def releases(paths: Paths) -> list[Path]:
    """The kept releases, oldest first."""
    return sorted((paths.warehouse_dir / "releases").glob("gridfusion-*.duckdb"))


def publish(candidate: Path, load_date: date, paths: Paths | None = None) -> Published:
    paths = paths or Paths.from_env()
    _swap_in(candidate, paths)
    release = (
        paths.warehouse_dir
        / "releases"
        / f"gridfusion-{load_date.isoformat()}-{datetime.now():%Y%m%dT%H%M%S}.duckdb"
    )
    release.parent.mkdir(parents=True, exist_ok=True)
    os.replace(candidate, release)
    for old in releases(paths)[:-KEEP_RELEASES]:
        old.unlink()
    return Published(paths.warehouse, paths.analytics, release)


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
    _swap_in(release, paths)
    return release
