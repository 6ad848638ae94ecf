"""Volume and distribution drift of a night's batch against the entity's last accepted nights.

A source that suddenly sends half its rows, or a column that is suddenly mostly empty, passes every row-level
rule yet is not fit to use. Each batch is compared, as delivered (before quarantine), with the mean of the
last ``BASELINE_NIGHTS`` accepted batches before its night: the swing in rows and, per column, the jump in
the share of nulls. The thresholds below are the one place these limits are set.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import pyarrow.parquet as pq

from ingest import manifest
from ingest.config import Paths
from ingest.contracts import Contract
from ingest.landing import partition

BASELINE_NIGHTS = 7
# (severity, threshold) from most to least severe; a change at or above the threshold gets that severity.
ROW_COUNT_SWING_PCT = (("warning", 50.0), ("info", 20.0))  # |rows - baseline| / baseline, in percent
NULL_RATE_JUMP_PTS = (("warning", 20.0), ("info", 5.0))  # rise of a column's null share, in percentage points


@dataclass(frozen=True)
class Drift:
    measure: str  # "row_count" or "null_rate:<column>"
    severity: str
    current: float
    baseline: float
    change: float  # percent for row_count, percentage points for null_rate


def _delivered(paths: Paths, contract: Contract, batch: manifest.Batch) -> manifest.Batch | None:
    """The batch whose landed rows a night delivered: a duplicate's rows are those of the batch it repeats."""
    if batch.status == "duplicate":
        return manifest.find_checksum(paths.manifest, contract.system, contract.entity, batch.checksum)
    return batch if batch.status in ("accepted", "rejected") else None


def _profile(paths: Paths, contract: Contract, batch: manifest.Batch) -> tuple[int, dict[str, float]]:
    """Rows and each contract column's null share, in percent, of a landed batch."""
    landed = partition(paths.landing_parquet, contract, date.fromisoformat(batch.load_date))
    table = pq.read_table(landed / f"{batch.batch_id}.parquet")
    columns = [c for c in table.column_names if not c.startswith("_")]
    rows = table.num_rows
    return rows, {c: 100 * table[c].null_count / rows if rows else 0.0 for c in columns}


def _severity(change: float, thresholds) -> str | None:
    return next((severity for severity, limit in thresholds if change >= limit), None)


def drift(paths: Paths, contract: Contract, load_date: date) -> list[Drift]:
    night = manifest.of_night(paths.manifest, contract.system, contract.entity, load_date)
    current = _delivered(paths, contract, night) if night else None
    previous = [
        b
        for b in manifest.batches(paths.manifest, contract.system, contract.entity)
        if b.load_date < load_date.isoformat() and b.status == "accepted"
    ][-BASELINE_NIGHTS:]
    if current is None or not previous:
        return []
    rows, nulls = _profile(paths, contract, current)
    history = [_profile(paths, contract, b) for b in previous]
    found = []
    baseline_rows = sum(r for r, _ in history) / len(history)
    if baseline_rows:
        swing = 100 * (rows - baseline_rows) / baseline_rows
        if severity := _severity(abs(swing), ROW_COUNT_SWING_PCT):
            found.append(Drift("row_count", severity, rows, round(baseline_rows, 1), round(swing, 1)))
    for column, share in nulls.items():
        baseline = sum(h.get(column, 0.0) for _, h in history) / len(history)
        if severity := _severity(share - baseline, NULL_RATE_JUMP_PTS):
            found.append(
                Drift(
                    f"null_rate:{column}",
                    severity,
                    round(share, 1),
                    round(baseline, 1),
                    round(share - baseline, 1),
                )
            )
    return found


def as_records(found: list[Drift]) -> list[dict]:
    return [asdict(d) for d in found]
