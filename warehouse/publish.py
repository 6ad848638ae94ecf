"""Publish a built candidate: atomic swap into place, keep earlier versions, export de-identified marts.

Readers that opened the previous file keep reading it (the swap is a rename on the same filesystem), new
readers see the new one, nobody ever sees a half-written file, and a failed night publishes nothing.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from ingest.config import Paths

KEEP_RELEASES = 7
PUBLIC_SCHEMA = "marts"


@dataclass(frozen=True)
class Published:
    warehouse: Path
    analytics: Path
    release: Path


def _swap_in(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` in one rename; a hard link avoids copying a large file."""
    tmp = target.with_name(f".{target.name}.incoming")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def export_analytics(candidate: Path, target: Path) -> None:
    """A marts-only copy for BI tools: no staging or intermediate tables, hence no clear personal data."""
    tmp = target.with_name(f".{target.name}.building")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
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
    os.replace(tmp, target)


def publish(candidate: Path, load_date: date, paths: Paths | None = None) -> Published:
    paths = paths or Paths.from_env()
    releases = paths.warehouse_dir / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    release = releases / f"gridfusion-{load_date.isoformat()}-{datetime.now():%Y%m%dT%H%M%S}.duckdb"
    os.replace(candidate, release)
    export_analytics(release, paths.analytics)
    _swap_in(release, paths.warehouse)
    for old in sorted(releases.glob("gridfusion-*.duckdb"))[:-KEEP_RELEASES]:
        old.unlink()
    return Published(paths.warehouse, paths.analytics, release)
