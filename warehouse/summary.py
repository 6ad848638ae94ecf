"""The run summary of one night: per source entity rows read / loaded / quarantined, the build, the publish.

Written as JSON beside the reports (``reports/run_summary/<date>.json``) and printed as a table.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ingest import manifest
from ingest.config import Paths
from ingest.contracts import CONTRACTS
from ingest.files import replacing


def _path(paths: Paths, kind: str, load_date: date) -> Path:
    return paths.reports / kind / f"{load_date.isoformat()}.json"


def record(paths: Paths, kind: str, load_date: date, payload: dict) -> None:
    """Keep one stage's outcome for the summary (``build``, ``publish``)."""
    with replacing(_path(paths, kind, load_date)) as tmp:
        tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def recorded(paths: Paths, kind: str, load_date: date) -> dict | None:
    """A stage outcome kept by ``record``, or None when the stage did not run that night."""
    target = _path(paths, kind, load_date)
    return json.loads(target.read_text()) if target.exists() else None


def summarise(load_date: date, paths: Paths | None = None) -> dict:
    paths = paths or Paths.from_env()
    entities = []
    for contract in CONTRACTS:
        shown = manifest.of_night(paths.manifest, contract.system, contract.entity, load_date)
        facts = (
            {k: v for k, v in asdict(shown).items() if k not in ("files", "system", "entity")}
            if shown
            else {
                "status": "missing",
                "rows_read": 0,
                "rows_loaded": 0,
                "rows_quarantined": 0,
                "message": "no extract landed",
            }
        )
        entities.append({"source_entity": contract.key, **facts})
    summary = {
        "load_date": load_date.isoformat(),
        "entities": entities,
        "build": recorded(paths, "build", load_date),
        "publish": recorded(paths, "publish", load_date),
    }
    summary["published"] = bool(summary["publish"])
    record(paths, "run_summary", load_date, summary)
    return summary


def print_summary(summary: dict, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"gridfusion night of {summary['load_date']}")
    for heading in ("source entity", "status", "read", "loaded", "quarantined", "note"):
        table.add_column(heading, justify="right" if heading in ("read", "loaded", "quarantined") else "left")
    for e in summary["entities"]:
        table.add_row(
            e["source_entity"],
            e["status"],
            str(e["rows_read"]),
            str(e["rows_loaded"]),
            str(e["rows_quarantined"]),
            (e.get("message") or "")[:80],
        )
    console.print(table)
    build = summary.get("build") or {}
    console.print(
        f"dbt build: {build.get('models', 0)} models, {build.get('tests_passed', 0)} tests passed, "
        f"{build.get('tests_failed', 0)} failed; published: {summary['published']}"
    )


class NightIncomplete(RuntimeError):
    """The night ended, but not everything arrived, passed validation or got published."""


def raise_if_incomplete(summary: dict) -> None:
    problems = [
        f"{e['source_entity']}: {e['status']} — {e.get('message', '')}"
        for e in summary["entities"]
        if e["status"] not in manifest.LOADED_STATUSES
    ]
    if (summary.get("build") or {}).get("error"):
        problems.append(summary["build"]["error"])
    if not summary["published"]:
        problems.append("the warehouse was not published; yesterday's stays in place")
    if problems:
        raise NightIncomplete(f"night of {summary['load_date']} incomplete: " + "; ".join(problems))
