"""Volume and distribution drift of a night's batch against the entity's earlier accepted nights.

A source that suddenly sends half its rows, or a column that is suddenly mostly empty, passes every row-level
rule yet is not fit to use. Each batch is compared, as delivered (before quarantine), with a baseline of
earlier accepted batches: the swing in rows and, per column, the jump in the share of nulls. What counts as
a normal swing depends on the extract (``Contract.extract``), so each kind has its own baseline and band:

* **snapshot** (members, residents, grids, workers): the whole population, which changes slowly. The
  baseline is the median of the last ``SNAPSHOT_NIGHTS`` accepted nights and the band is tight: a snapshot
  15 % smaller or larger than that is a warning (a lost district, a half export).
* **incremental** (cases, steps, 12345 orders): the day's changes, which swing with the weekday, holidays,
  weather and a backlog building up after a first load. The baseline is the median of the same weekday's
  accepted nights of the last ``INCREMENTAL_WEEKS`` weeks when there are at least ``MIN_SAME_WEEKDAY`` of
  them, else of the last ``INCREMENTAL_NIGHTS`` nights; the band is wide and symmetric in ratio: three times
  the baseline, or a third of it, is a warning.

The thresholds below are the one place these limits are set (the README's reviewer section explains them).
A median, not a mean: one odd night in the baseline (a holiday) does not move it.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from ingest import manifest
from ingest.config import Paths, partition
from ingest.contracts import Contract

SNAPSHOT_NIGHTS = 7
INCREMENTAL_WEEKS = 5
MIN_SAME_WEEKDAY = 2
INCREMENTAL_NIGHTS = 7
# (severity, threshold) from most to least severe. Row counts by fold change, max(rows/baseline,
# baseline/rows), so a fall to a third weighs as a rise to three times: 1.15 is ±15 %.
ROW_COUNT_FOLD = {
    "snapshot": (("warning", 1.15), ("info", 1.05)),
    "incremental": (("warning", 3.0), ("info", 2.0)),
}
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
    """Rows and each contract column's null share of a landed batch (``null_shares``)."""
    landed = partition(paths.landing_parquet, contract, date.fromisoformat(batch.load_date))
    return null_shares(landed / f"{batch.batch_id}.parquet")


def null_shares(file: Path) -> tuple[int, dict[str, float]]:
    """Rows and each column's null share, in percent, from the null counts a Parquet file keeps per row
    group: a night compares itself with up to seven whole extracts, and reading their rows (a city's
    residents are 7.4M with their raw records) took most of a delta's report. Lineage columns (``_*``) are
    left out."""
    metadata = pq.read_metadata(file)
    nulls = dict.fromkeys((c for c in metadata.schema.names if not c.startswith("_")), 0)
    for group in map(metadata.row_group, range(metadata.num_row_groups)):
        if group.num_rows == 0:  # an empty extract's one row group: no rows, no statistics
            continue
        for chunk in map(group.column, range(metadata.num_columns)):
            if chunk.path_in_schema in nulls:
                nulls[chunk.path_in_schema] += _null_count(chunk, file)
    rows = metadata.num_rows
    return rows, {c: 100 * n / rows if rows else 0.0 for c, n in nulls.items()}


def _null_count(chunk: pq.ColumnChunkMetaData, file: Path) -> int:
    stats = chunk.statistics
    if stats is None or not stats.has_null_count:
        raise ValueError(f"{file}: column {chunk.path_in_schema} was written without its null count")
    return stats.null_count


def _severity(change: float, thresholds) -> str | None:
    return next((severity for severity, limit in thresholds if change >= limit), None)


def baseline_batches(contract: Contract, night: date, accepted: list[manifest.Batch]) -> list[manifest.Batch]:
    """The earlier accepted batches a night is compared with, by the kind of extract (see the module)."""
    earlier = [b for b in accepted if date.fromisoformat(b.load_date) < night]
    if contract.extract == "snapshot":
        return earlier[-SNAPSHOT_NIGHTS:]
    since = night - timedelta(weeks=INCREMENTAL_WEEKS)
    same_weekday = [
        b
        for b in earlier
        if (day := date.fromisoformat(b.load_date)) >= since and day.weekday() == night.weekday()
    ]
    return same_weekday if len(same_weekday) >= MIN_SAME_WEEKDAY else earlier[-INCREMENTAL_NIGHTS:]


def row_count_severity(contract: Contract, rows: int, baseline: float) -> str | None:
    """The severity of ``rows`` against a (non-zero) baseline, in the band of the contract's kind of extract."""
    fold = max(rows / baseline, baseline / rows) if rows else float("inf")
    return _severity(fold, ROW_COUNT_FOLD[contract.extract])


def drift(paths: Paths, contract: Contract, load_date: date) -> list[Drift]:
    night = manifest.of_night(paths.manifest, contract.system, contract.entity, load_date)
    current = _delivered(paths, contract, night) if night else None
    accepted = [
        b
        for b in manifest.batches(paths.manifest, contract.system, contract.entity)
        if b.status == "accepted"
    ]
    previous = baseline_batches(contract, load_date, accepted)
    if current is None or not previous:
        return []
    rows, nulls = _profile(paths, contract, current)
    history = [_profile(paths, contract, b) for b in previous]
    found = []
    baseline_rows = statistics.median(r for r, _ in history)
    if baseline_rows:
        swing = 100 * (rows - baseline_rows) / baseline_rows
        if severity := row_count_severity(contract, rows, baseline_rows):
            found.append(Drift("row_count", severity, rows, round(baseline_rows, 1), round(swing, 1)))
    for column, share in nulls.items():
        baseline = statistics.median(h.get(column, 0.0) for _, h in history)
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
