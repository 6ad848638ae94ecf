"""Build the warehouse with dbt on a candidate file; nothing analysts read is touched here."""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner

from expectations.validate import discard_uncommitted, write_schema_files
from ingest import faults
from ingest.config import REPO_ROOT, Paths
from ingest.contracts import CONTRACTS
from ingest.files import sources_digest
from warehouse.file_lock import wait_until_free

DBT_PROJECT = REPO_ROOT / "dbt_project"
# What the warehouse's tables are made from: the dbt project and the Python its models import. When last
# night's warehouse was built from anything else, its incremental tables are rebuilt from every batch.
MODEL_SOURCES = (
    *(DBT_PROJECT / part for part in ("dbt_project.yml", "models", "macros", "seeds", "snapshots")),
    REPO_ROOT / "warehouse" / "person_resolution.py",
    REPO_ROOT / "warehouse" / "person_delta.py",
    REPO_ROOT / "warehouse" / "pseudonym.py",
)
MODEL_VERSION_TABLE = "ops.model_version"
# What a night's dbt docs keep: the self-contained page, and the manifest and catalog it was made from.
DOCS_FILES = {
    "static_index.html": "index.html",
    "manifest.json": "manifest.json",
    "catalog.json": "catalog.json",
}

log = logging.getLogger(__name__)


class WarehouseBuildFailed(RuntimeError):
    """``dbt build`` failed: a model errored or a test did not pass. The published warehouse is unchanged."""


@dataclass
class BuildResult:
    candidate: Path
    full_refresh: bool = False  # every incremental model rebuilt from all batches
    models: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    seconds: float = 0.0
    parse_seconds: float = 0.0  # dbt's start-up and project parse, before the first model runs
    compile_seconds: float = 0.0  # rendering each node's SQL, summed over nodes
    failures: list[str] = field(default_factory=list)
    docs: str | None = None
    docs_seconds: float = 0.0


def candidate_path(paths: Paths) -> Path:
    """One candidate file for every night (one build runs at a time; publish names the release by date).

    Its path is part of dbt's profile, and a changed profile makes dbt parse the whole project again, so a
    per-night name would cost every night a full parse instead of a partial one.
    """
    return paths.warehouse_dir / "candidates" / "gridfusion.duckdb"


def dbt_target(paths: Paths) -> Path:
    """dbt's own output folder (manifest, run results, compiled SQL) for builds in this home."""
    return paths.home / "dbt_target"


def dbt(args: list[str], paths: Paths, target: Path):
    """Run a dbt command in-process against ``target``; dbt reads both paths and the model version (which
    the ``model_version`` model records) from the environment.

    dbt-duckdb keeps ``target`` open for the whole command (``keep_open`` in the profile) and it is closed
    here, once: DuckDB checkpoints a file when the last connection to it closes, and a build written in one
    checkpoint over a copy of the published file can be published by renaming it (``warehouse.publish``).
    """
    os.environ["GRIDFUSION_HOME"] = str(paths.home)
    os.environ["GRIDFUSION_WAREHOUSE_TARGET"] = str(target)
    os.environ["GRIDFUSION_MODEL_VERSION"] = model_version()
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    try:
        return dbtRunner(callbacks=[_on_dbt_event]).invoke(
            [
                *args,
                "--project-dir",
                str(DBT_PROJECT),
                "--profiles-dir",
                str(DBT_PROJECT),
                "--log-path",
                str(paths.home / "logs" / "dbt"),
                "--target-path",
                str(dbt_target(paths)),
            ]
        )
    finally:
        _close_target()


def _close_target() -> None:
    """Close the DuckDB that dbt-duckdb kept open, and so checkpoint the target now, not at interpreter exit."""
    if DuckDBConnectionManager._ENV is not None:  # None when dbt stopped before connecting
        DuckDBConnectionManager.env().close()
    DuckDBConnectionManager.close_all_connections()


def _time_phases(result: BuildResult, outcome) -> None:
    """Split dbt's time into parse (everything before graph execution) and node compile time."""
    executed = getattr(outcome.result, "elapsed_time", None)
    if executed is None:
        return
    result.parse_seconds = round(max(result.seconds - executed, 0.0), 2)
    compile_phases = [
        t for node in outcome.result or [] for t in node.timing if t.name == "compile" and t.completed_at
    ]
    result.compile_seconds = round(
        sum((t.completed_at - t.started_at).total_seconds() for t in compile_phases), 2
    )


def _on_dbt_event(event) -> None:
    if event.info.name == "LogModelResult":
        faults.reached("dbt.mid_model")


def model_version() -> str:
    """A digest of every file in ``MODEL_SOURCES``, paths included."""
    return sources_digest(MODEL_SOURCES, REPO_ROOT)


def built_model_version(database: Path) -> str | None:
    """The model version a warehouse file was built with (None for one built before versions were kept)."""
    with duckdb.connect(str(database), read_only=True) as con:
        found = con.execute(
            "select 1 from duckdb_tables() where schema_name || '.' || table_name = ?", [MODEL_VERSION_TABLE]
        ).fetchone()
        return con.execute(f"select version from {MODEL_VERSION_TABLE}").fetchone()[0] if found else None


def start_from_published(published: Path, target: Path) -> bool:
    """Make the candidate a copy of the published warehouse, so that ``dbt build`` extends its incremental
    tables and snapshot history instead of starting them again; False when nothing is published yet.

    A copy of the whole file (about 1.4 s for 200 MB) costs less than copying only the tables the build
    extends into an empty file (about 4.8 s): DuckDB rewrites every row it copies. The published file
    itself is never opened for writing, so a failed build leaves it as it was.
    """
    if not published.exists():
        return False
    incoming = target.with_name(f".{target.name}.copying")
    shutil.copyfile(published, incoming)
    os.replace(incoming, target)
    return True


def build(load_date: date, paths: Paths | None = None, full_refresh: bool = False) -> BuildResult:
    """Build the night's candidate from last night's published warehouse. Incremental models take in only
    the batches they have not seen; they are rebuilt from every batch when ``full_refresh`` is asked for or
    the published warehouse was built from other models (``model_version``). Snapshots keep their history
    either way."""
    paths = paths or Paths.from_env()
    target = candidate_path(paths)
    target.parent.mkdir(parents=True, exist_ok=True)
    wait_until_free(target)  # the same night being built by another process
    for stale in (target, target.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)  # what a failed build left behind
    if start_from_published(paths.warehouse, target) and built_model_version(target) != model_version():
        log.warning("the published warehouse was built from other models: rebuilding every incremental model")
        full_refresh = True
    for contract in CONTRACTS:
        write_schema_files(paths, contract)  # an entity that never loaded yet reads as empty, not as an error
        for stale in discard_uncommitted(paths, contract):
            log.warning("%s: left out of the build, no accepted batch owns it: %s", contract.key, stale)
    started = time.perf_counter()
    outcome = dbt(["build", "--quiet", *(["--full-refresh"] if full_refresh else [])], paths, target)
    result = BuildResult(
        candidate=target, full_refresh=full_refresh, seconds=round(time.perf_counter() - started, 2)
    )
    _time_phases(result, outcome)
    for node in outcome.result or []:
        kind = node.node.resource_type
        ok = str(node.status) in ("success", "pass", "no-op")  # an exposure is a no-op
        if kind == "test":
            result.tests_passed += ok
            result.tests_failed += not ok
        elif kind in ("model", "seed"):
            result.models += ok
        if not ok:
            result.failures.append(f"{kind} {node.node.name}: {node.status} {node.message or ''}".strip())
    if not outcome.success:
        detail = "; ".join(result.failures) or str(outcome.exception)
        raise WarehouseBuildFailed(f"dbt build failed for {load_date} (candidate {target}): {detail}")
    started = time.perf_counter()
    docs = write_docs(load_date, paths, target)
    result.docs = str(docs) if docs else None
    result.docs_seconds = round(time.perf_counter() - started, 2)
    wal = target.with_suffix(".duckdb.wal")
    if wal.exists():
        raise WarehouseBuildFailed(
            f"{target} still has a write-ahead log open; refusing to hand it to publish"
        )
    return result


def write_docs(load_date: date, paths: Paths, target: Path) -> Path | None:
    """The night's dbt docs beside its Data Docs, from the build's own manifest (not recompiled) and the
    candidate's catalog. Docs that fail to generate are logged and do not hold back the warehouse."""
    outcome = dbt(["docs", "generate", "--static", "--no-compile", "--quiet"], paths, target)
    if not outcome.success:
        log.error("dbt docs generate failed for %s: %s", load_date, outcome.exception)
        return None
    folder = paths.dbt_docs / load_date.isoformat()
    incoming = folder.with_name(f".{folder.name}.incoming")
    shutil.rmtree(incoming, ignore_errors=True)
    incoming.mkdir(parents=True)
    for produced, kept in DOCS_FILES.items():
        shutil.copyfile(dbt_target(paths) / produced, incoming / kept)
    shutil.rmtree(folder, ignore_errors=True)
    incoming.rename(folder)
    return folder / "index.html"
