"""Re-admit quarantined rows that pass today's rules and reference data (``gridfusion readmit``).

A row quarantined because its grid did not exist yet, or by a rule since corrected, need not wait for the
source to deliver it again. Readmission validates an entity's pending quarantined rows (optionally of one
night, optionally caught by one rule) with the suite of their night, as the contracts and reference data
stand today (references against everything accepted so far, the latest snapshots), and the rows that pass
every rule are loaded as a new batch:

* its manifest record has status ``readmitted``, the night of the batch it came from and ``readmitted_from``
  that batch; its rows keep their lineage (``_source_file``, ``_source_row``, ``_raw``, ``_load_date``);
* the quarantine keeps every row, marking the readmitted ones with ``_readmitted_by`` (the new batch): the
  history stays queryable in ``ops.quarantined_rows``;
* row accounting: the origin batch's ``rows_quarantined`` drops by the rows readmitted and its
  ``rows_readmitted`` rises by them (read = loaded + quarantined + readmitted); the readmitted batch reads
  and loads them (read = loaded), so each source row is counted loaded or quarantined once.

The manifest record is the commit, as for a night's validation: the accepted file is written first, then the
record, then the marks, which ``mark_readmitted`` can always redo from the committed batches. Readmitting
again finds nothing new. The rows reach the marts with the next build; a snapshot entity's rows only if their
night is still its latest snapshot (an older night's snapshot has been replaced).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from expectations.committed import committed_batches
from expectations.validate import QUARANTINE_RULES, READMITTED_BY, run_suite, write_schema_files
from ingest import manifest
from ingest.config import Paths, partition
from ingest.contracts import Contract
from ingest.landing import write_parquet_atomic


@dataclass
class Readmission:
    source_entity: str
    rows_checked: int = 0
    batches: list[manifest.Batch] = field(default_factory=list)
    still_failing: dict[str, int] = field(default_factory=dict)  # rule → rows that still fail it

    @property
    def rows_readmitted(self) -> int:
        return sum(b.rows_loaded for b in self.batches)


def _quarantine_files(
    paths: Paths, contract: Contract, night: date | None
) -> list[tuple[manifest.Batch, Path]]:
    """Each accepted batch with quarantined rows, and its quarantine file, oldest night first."""
    found = []
    for batch in manifest.extracts(paths.manifest, contract.system, contract.entity, night):
        target = (
            partition(paths.quarantine, contract, date.fromisoformat(batch.load_date))
            / f"{batch.batch_id}.parquet"
        )
        if batch.status == "accepted" and target.exists():
            found.append((batch, target))
    return found


def _readmissions_of(paths: Paths, contract: Contract, origin: manifest.Batch) -> list[manifest.Batch]:
    night = date.fromisoformat(origin.load_date)
    return [
        b
        for b in manifest.batches(paths.manifest, contract.system, contract.entity, night)
        if b.status == manifest.READMITTED and b.readmitted_from == origin.batch_id
    ]


def mark_readmitted(paths: Paths, contract: Contract, origin: manifest.Batch, quarantine: Path) -> pa.Table:
    """Mark the quarantined rows that committed readmissions loaded and bring the origin batch's counts in
    line; idempotent. Returns the quarantine as marked."""
    table = pq.read_table(quarantine)
    night = date.fromisoformat(origin.load_date)
    lineage = [
        "_source_file",
        "_source_row",
    ]  # a row's place in its batch (a batch may span files: JSON pages)
    by_row: dict[tuple[str, int], str] = {}
    for readmitted in _readmissions_of(paths, contract, origin):
        loaded = pq.read_table(
            partition(paths.accepted, contract, night) / f"{readmitted.batch_id}.parquet", columns=lineage
        )
        for place in zip(*(loaded[c].to_pylist() for c in lineage), strict=True):
            by_row[place] = readmitted.batch_id
    places = zip(*(table[c].to_pylist() for c in lineage), strict=True)
    marks = pa.array([by_row.get(place) for place in places], pa.string())
    current = table[READMITTED_BY.name] if READMITTED_BY.name in table.column_names else None
    if current is None or not current.combine_chunks().equals(marks):
        if current is not None:
            table = table.drop_columns([READMITTED_BY.name])
        table = table.append_column(READMITTED_BY, marks)
        write_parquet_atomic(table, quarantine)
    readmitted = len(by_row)
    if origin.rows_readmitted != readmitted:
        origin.rows_quarantined -= readmitted - origin.rows_readmitted
        origin.rows_readmitted = readmitted
        manifest.write(paths.manifest, origin)
    return table


def _pending(table: pa.Table, rule: str | None) -> pa.Table:
    keep = pc.is_null(table[READMITTED_BY.name])
    if rule:
        caught = pc.match_substring_regex(table[QUARANTINE_RULES.name], f"(?:^|,){re.escape(rule)}(?:,|$)")
        keep = pc.and_(keep, caught)
    return table.filter(keep)


def _batch_id(contract: Contract, origin: manifest.Batch, rows: pa.Table) -> str:
    places = list(zip(rows["_source_file"].to_pylist(), rows["_source_row"].to_pylist(), strict=True))
    digest = hashlib.sha256(f"{origin.batch_id}:{places}".encode()).hexdigest()
    return f"{contract.entity}-{origin.load_date.replace('-', '')}-readmit-{digest[:12]}"


def readmit(
    contract: Contract, paths: Paths | None = None, night: date | None = None, rule: str | None = None
) -> Readmission:
    """Validate the entity's pending quarantined rows again and load those that pass; see the module."""
    paths = paths or Paths.from_env()
    write_schema_files(paths, contract)
    outcome = Readmission(contract.key)
    for origin, quarantine in _quarantine_files(paths, contract, night):
        if origin.batch_id not in committed_batches(paths, contract, date.fromisoformat(origin.load_date)):
            continue  # a replaced extract: its night is another batch's now
        pending = _pending(mark_readmitted(paths, contract, origin, quarantine), rule)
        if not pending.num_rows:
            continue
        outcome.rows_checked += pending.num_rows
        candidates = pending.select(contract.arrow_schema().names)
        batch_id = _batch_id(contract, origin, candidates)
        origin_night = date.fromisoformat(origin.load_date)
        results = run_suite(
            contract,
            candidates.to_pandas(),
            origin_night,
            paths,
            run_name=batch_id,
            references_as_of=date.max,
        )
        failing: set[int] = set()
        for result in results:
            if result.error:
                raise RuntimeError(f"{contract.key}: rule {result.rule} could not be checked: {result.error}")
            if not result.success:
                failing.update(result.unexpected_rows)
                outcome.still_failing[result.rule] = outcome.still_failing.get(result.rule, 0) + len(
                    result.unexpected_rows
                )
        passing = candidates.filter(pa.array([i not in failing for i in range(candidates.num_rows)]))
        if not passing.num_rows:
            continue
        loaded_at = pa.array([datetime.now()] * passing.num_rows, pa.timestamp("us"))
        passing = passing.set_column(
            passing.schema.get_field_index("_batch_id"), "_batch_id", pa.array([batch_id] * passing.num_rows)
        ).set_column(passing.schema.get_field_index("_loaded_at"), "_loaded_at", loaded_at)
        write_parquet_atomic(
            passing, partition(paths.accepted, contract, origin_night) / f"{batch_id}.parquet"
        )
        batch = manifest.Batch(
            batch_id=batch_id,
            system=contract.system,
            entity=contract.entity,
            load_date=origin.load_date,
            contract_version=contract.version,
            files=origin.files,
            checksum=origin.checksum,
            status=manifest.READMITTED,
            rows_read=passing.num_rows,
            rows_loaded=passing.num_rows,
            readmitted_from=origin.batch_id,
            message=f"readmitted {passing.num_rows} of {pending.num_rows} rows quarantined by {origin.batch_id}"
            + (f" (rule {rule})" if rule else ""),
            landed_at=manifest.now(),
            validated_at=manifest.now(),
        )
        manifest.write(paths.manifest, batch)
        mark_readmitted(paths, contract, origin, quarantine)
        outcome.batches.append(batch)
    return outcome
