"""The nightly quality summary: the one page a reviewer opens to know whether last night's data is fit to use.

Per source entity: the batch's status; rows read, loaded and quarantined, and of those read how many were
carried unchanged from the last snapshot (``ingest.carry``); each rule's verdict (``fail``: a
critical rule failed and the batch was rejected; ``warn``: a warning rule caught rows, which went to
quarantine); schema drift (columns the source sent that the contract does not know, optional columns it did
not send, source types changed since the last batch: ``ingest.schema_drift``); the change in volume
against the night before; drift in rows and null shares against the last accepted nights (``drift``); and links into that night's Data Docs. Written as JSON and as HTML, side by side,
under ``reports/quality/<date>``; links are relative, so the reports folder can be moved or served as is.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from expectations import data_docs, drift, pages
from expectations.validate import recorded_outcomes
from ingest import manifest, schema_drift
from ingest.config import Paths
from ingest.contracts import CONTRACTS, Contract
from ingest.landing import write_text_atomic

VERDICTS = ("pass", "warn", "fail")  # from best to worst


@dataclass(frozen=True)
class QualityReport:
    json: Path
    html: Path


def report_for(load_date: date, paths: Paths) -> QualityReport:
    stem = paths.quality_reports / load_date.isoformat()
    return QualityReport(json=stem.with_suffix(".json"), html=stem.with_suffix(".html"))


def _worst(verdicts) -> str:
    return max(verdicts, key=VERDICTS.index, default="pass")


def _rows_delivered(paths: Paths, contract: Contract, batch: manifest.Batch | None) -> int | None:
    """Rows in a night's extract. A duplicate loads nothing but holds the same rows as the batch it repeats."""
    if batch is None or batch.status == "failed":
        return None
    if batch.status == "duplicate":
        original = manifest.find_checksum(paths.manifest, contract.system, contract.entity, batch.checksum)
        return original.rows_read if original else None
    return batch.rows_read


def _volume(paths: Paths, contract: Contract, batch: manifest.Batch | None, load_date: date) -> dict:
    previous = manifest.of_night(
        paths.manifest, contract.system, contract.entity, load_date - timedelta(days=1)
    )
    rows, before = _rows_delivered(paths, contract, batch), _rows_delivered(paths, contract, previous)
    change = None if rows is None or before is None else rows - before
    return {
        "rows": rows,
        "previous_rows": before,
        "change": change,
        "change_pct": round(100 * change / before, 1) if change is not None and before else None,
    }


def _entity(paths: Paths, contract: Contract, load_date: date, docs: data_docs.NightDocs) -> dict:
    batch = manifest.of_night(paths.manifest, contract.system, contract.entity, load_date)
    rules = [
        {key: r[key] for key in ("rule", "severity", "verdict", "unexpected_count", "error")}
        for r in (recorded_outcomes(paths, contract, batch) if batch else [])
    ]
    columns = schema_drift.summary(batch)
    volume_drift = drift.as_records(drift.drift(paths, contract, load_date))
    status = batch.status if batch else "missing"
    page = docs.validation_pages.get(batch.batch_id) if batch else None
    return {
        "source_entity": contract.key,
        "batch_id": batch.batch_id if batch else None,
        "status": status,
        "verdict": _worst(
            [
                "pass" if status in manifest.LOADED_STATUSES else "fail",
                "warn" if any(columns.values()) or (batch and batch.rows_quarantined) else "pass",
                "warn" if any(d["severity"] == "warning" for d in volume_drift) else "pass",
                *(r["verdict"] for r in rules),
            ]
        ),
        "rows_read": batch.rows_read if batch else 0,
        "rows_loaded": batch.rows_loaded if batch else 0,
        "rows_quarantined": batch.rows_quarantined if batch else 0,
        "rows_carried": batch.rows_carried if batch else 0,
        "duplicates_dropped": batch.duplicates_dropped if batch else 0,
        "rule_counts": {v: sum(r["verdict"] == v for r in rules) for v in VERDICTS},
        "rules": rules,
        "schema_drift": columns,
        "drift": volume_drift,
        "volume": _volume(paths, contract, batch, load_date),
        "message": batch.message if batch else "no extract landed",
        "data_docs": os.path.relpath(page, paths.quality_reports) if page else None,
    }


def quality_summary(load_date: date, paths: Paths, docs: data_docs.NightDocs) -> dict:
    entities = [_entity(paths, contract, load_date, docs) for contract in CONTRACTS]
    return {
        "load_date": load_date.isoformat(),
        "previous_load_date": (load_date - timedelta(days=1)).isoformat(),
        "generated_at": manifest.now(),
        "verdict": _worst(e["verdict"] for e in entities),
        "totals": {
            k: sum(e[k] for e in entities)
            for k in ("rows_read", "rows_loaded", "rows_quarantined", "rows_carried", "duplicates_dropped")
        },
        "data_docs": os.path.relpath(docs.index, paths.quality_reports),
        "entities": entities,
    }


def write_report(load_date: date, paths: Paths | None = None) -> QualityReport:
    """Build the night's Data Docs, then its quality summary as JSON and HTML."""
    paths = paths or Paths.from_env()
    summary = quality_summary(load_date, paths, data_docs.build_night(load_date, paths))
    report = report_for(load_date, paths)
    write_text_atomic(json.dumps(summary, ensure_ascii=False, indent=2), report.json)
    write_text_atomic(
        pages.render("quality_summary.html.j2", s=summary, loaded=manifest.LOADED_STATUSES), report.html
    )
    return report
