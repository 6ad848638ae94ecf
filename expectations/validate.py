"""Validate one landed batch with its suite; route rows to accepted or quarantine, or reject the batch.

GX runs on the pandas engine, fed from the landed Parquet (its SQL path through duckdb-engine returns
empty results). An expectation that raised an error counts as failed at its severity, never as passed.

The manifest is the commit record: a batch's accepted and quarantined rows are written first, then the
manifest says ``accepted``, then the day's earlier batch is removed. A validation killed in between leaves
files that no committed batch owns; ``discard_uncommitted`` takes them out before the warehouse is built.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import great_expectations as gx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from great_expectations.data_context.types.base import ProgressBarsConfig

from expectations.committed import committed_batches
from expectations.masking import mask_raw_record
from expectations.references import unknown_references
from expectations.suites import (
    CRITICAL,
    NIGHT_DEPENDENT,
    RECHECK,
    UNREADABLE,
    build_suite,
    expectations_for,
    is_whole_batch,
    whole_batch_columns,
)
from ingest import faults, manifest
from ingest.carry import carried_verdicts
from ingest.config import Paths, partition
from ingest.contracts import Contract
from ingest.files import sharing
from ingest.landing import write_parquet_atomic, write_parquet_parts_atomic, write_text_atomic
from ingest.parse import PARSE_ROWS, reads_optional_types, unreadable

log = logging.getLogger(__name__)
SAMPLE_ROWS = 5


class BatchRejected(RuntimeError):
    """A critical expectation failed: the batch must not reach the warehouse."""


@dataclass(frozen=True)
class RuleOutcome:
    rule: str
    severity: str
    success: bool
    unexpected_rows: tuple[int, ...]  # positions in the batch
    error: str = ""

    @property
    def verdict(self) -> str:
        """What a reviewer reads: ``pass``, ``warn`` (a warning rule failed) or ``fail`` (a critical one)."""
        if self.success:
            return "pass"
        return "fail" if self.severity == CRITICAL else "warn"


@cache
def gx_context(root: Path):
    """The file context under ``root``, without a progress bar per metric: a night's log and the bench's
    table are read by people, and the bars were most of what they printed."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _checkpoint(
    contract: Contract, load_date: date, paths: Paths, rechecked_only: bool = False, rules: str = "all"
):
    context = gx_context(paths.gx_root)
    source = context.data_sources.add_or_update_pandas("landing")
    try:
        asset = source.get_asset(contract.key)
    except LookupError:
        asset = source.add_dataframe_asset(contract.key)
    try:
        batch_definition = asset.get_batch_definition("batch")
    except KeyError:
        batch_definition = asset.add_batch_definition_whole_dataframe("batch")
    suite = context.suites.add_or_update(build_suite(contract, load_date, rechecked_only, rules))
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=contract.key, data=batch_definition, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=contract.key,
            validation_definitions=[definition],
            # No Data Docs action: re-rendering GX's all-time site after every batch cost more than the
            # validation itself; each night's site is rendered once, by expectations.data_docs.
            actions=[],
            result_format={"result_format": "COMPLETE"},
        )
    )


def _forget_batches(paths: Paths) -> None:
    """Drop the frames GX's pandas engine keeps: it holds each asset's last batch for the life of the
    context, so a night validating every entity in one process held every entity's frame to the end (a
    quarter city's validation peaked at 3.8 GiB with them, 2.7 GiB without)."""
    engine = gx_context(paths.gx_root).data_sources.get("landing").get_execution_engine()
    engine.batch_manager.batch_data_cache.clear()
    engine.batch_manager.reset_batch_cache()


@contextmanager
def gx_project_lock(paths: Paths) -> Iterator[None]:
    """One process at a time on the GX project: GX rewrites its files (``great_expectations.yml``, the Data
    Docs site) on every validation, and a scheduler validates entities in parallel processes, which would
    read each other's half-written files."""
    paths.gx_root.mkdir(parents=True, exist_ok=True)
    with (paths.gx_root / ".validation.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def needs_recheck(carried: pd.Series, reference_helpers: dict[str, pd.Series]) -> pd.Series:
    """The rows whose row rules must run: those not carried, those quarantined by a rule that depends on the
    night (a key delivered since, a date no longer in the future), and any naming a key not delivered."""
    night_dependent = f"[^,]*:(?:{'|'.join(NIGHT_DEPENDENT)})"
    recheck = carried.isna()
    quarantined = carried[~recheck & carried.ne("")]  # few: the regex reads only these
    recheck[quarantined.index] = quarantined.str.contains(f"(?:^|,){night_dependent}(?:,|$)")
    for helper in reference_helpers.values():
        recheck |= helper.notna()
    return recheck


def _with_carried(
    outcomes: list[RuleOutcome], whole_batch: set[str], carried: pd.Series, recheck: pd.Series
) -> list[RuleOutcome]:
    """Each row rule's outcome with the carried rows it quarantined in their batch and not checked again."""
    kept = carried[~recheck & carried.fillna("").ne("")]
    by_rule: dict[str, list[int]] = {}
    for position, rules in zip(kept.index, kept, strict=True):
        for rule in rules.split(","):
            by_rule.setdefault(rule, []).append(int(position))
    merged = []
    for o in outcomes:
        rows = by_rule.get(o.rule, []) if o.rule not in whole_batch and not o.error else []
        if rows:
            unexpected = tuple(sorted({*o.unexpected_rows, *rows}))
            o = RuleOutcome(o.rule, o.severity, success=False, unexpected_rows=unexpected, error=o.error)
        merged.append(o)
    return merged


def run_suite(
    contract: Contract,
    frame: pd.DataFrame,
    load_date: date,
    paths: Paths,
    run_name: str,
    references_as_of: date | None = None,
    carried: pd.Series | None = None,
    records: pa.ChunkedArray | None = None,
) -> list[RuleOutcome]:
    """Each rule's outcome on ``frame``, checked with the suite of ``load_date``, its references against the
    keys delivered by ``references_as_of`` (by default that night too). ``carried`` holds, per row carried
    from the last snapshot batch, the rules that quarantined it there ("" if accepted) and null for the
    others: row rules then check only the rows ``needs_recheck`` finds, and the carried rows keep their
    verdict; whole-batch rules (key uniqueness, row count) check every row. ``records`` are the rows'
    ``_raw`` records when ``frame`` does not hold them (see ``parse.unreadable``)."""
    helpers = unknown_references(contract, frame, references_as_of or load_date, paths)
    recheck = None if carried is None else needs_recheck(carried, helpers)
    if records is None and "_raw" in frame:
        records = pa.chunked_array([pa.array(frame["_raw"], pa.string())])
    # GX hashes every column of the frame it is given; no rule reads the raw record, the largest column.
    checked = frame.drop(columns="_raw", errors="ignore").assign(**helpers)
    if recheck is None:
        checked[UNREADABLE] = unreadable(frame, records, contract)
    else:
        rechecked = None if records is None else records.filter(pa.array(recheck.to_numpy()))
        checked[UNREADABLE] = unreadable(frame[recheck], rechecked, contract).reindex(frame.index)
        checked[RECHECK] = recheck.astype("int8")
        del rechecked
    del records  # a city extract's raw records are gigabytes: not held while GX runs
    outcomes = []
    with gx_project_lock(paths):
        for rules, part in _suite_parts(contract, load_date, checked, recheck):
            checkpoint = _checkpoint(contract, load_date, paths, recheck is not None, rules)
            result = checkpoint.run(
                batch_parameters={"dataframe": part}, run_id=gx.RunIdentifier(run_name=run_name)
            )
            outcomes += _outcomes(result)
            _forget_batches(paths)
        faults.reached("validate.mid_suite")
    suite = expectations_for(contract, load_date)
    outcomes = _merged(outcomes, suite)
    if recheck is None:
        return outcomes
    whole_batch = {e.meta["rule"] for e in suite if is_whole_batch(e)}
    return _with_carried(outcomes, whole_batch, carried, recheck)


# Rows one GX run checks: its pandas engine takes several times a frame's size. A larger batch gets one run
# of the whole-batch rules over the columns they read, then the row rules a slice at a time.
VALIDATE_ROWS = 2_000_000


def _suite_parts(
    contract: Contract, load_date: date, checked: pd.DataFrame, recheck: pd.Series | None = None
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Which rules (``build_suite``'s ``rules``) run on which frame: all on ``checked``, or for a large
    batch the whole-batch ones on its columns they read and the row ones on each slice (index kept, so an
    unexpected row is named by its place in the batch). A batch that carried rows gives its row rules only
    the ``recheck`` rows: the rest would be read only to be skipped by their row condition."""
    if recheck is None and len(checked) <= VALIDATE_ROWS:
        yield "all", checked
        return
    yield "whole_batch", checked[whole_batch_columns(contract, load_date)]
    if recheck is not None:
        # With nothing to recheck, one carried row (skipped by the row condition) still gives each row
        # rule its outcome.
        checked = checked[recheck.to_numpy()] if recheck.any() else checked.iloc[:1]
    for start in range(0, len(checked), VALIDATE_ROWS):
        yield "row", checked.iloc[start : start + VALIDATE_ROWS]


def _outcomes(result) -> list[RuleOutcome]:
    """Each expectation's outcome in a checkpoint result; one that raised an error counts as failed."""
    outcomes = []
    for validation in result.run_results.values():
        for r in validation.results:
            meta = r.expectation_config.meta or {}
            error = (r.exception_info or {}).get("exception_message") or ""
            outcomes.append(
                RuleOutcome(
                    rule=meta.get("rule", r.expectation_config.type),
                    severity=CRITICAL if error else meta.get("severity", CRITICAL),
                    success=bool(r.success) and not error,
                    unexpected_rows=tuple(
                        int(i) for i in (r.result or {}).get("unexpected_index_list") or ()
                    ),
                    error=error,
                )
            )
    return outcomes


def _merged(outcomes: list[RuleOutcome], suite: list) -> list[RuleOutcome]:
    """One outcome per rule from its outcomes on the parts of a batch, in the ``suite``'s order of rules,
    however the batch was split."""
    order = {e.meta["rule"]: i for i, e in enumerate(suite)}
    by_rule: dict[str, list[RuleOutcome]] = {}
    for o in sorted(outcomes, key=lambda o: order.get(o.rule, len(order))):
        by_rule.setdefault(o.rule, []).append(o)
    merged = []
    for rule, found in by_rule.items():
        if len(found) == 1:
            merged.append(found[0])
            continue
        error = next((o.error for o in found if o.error), "")
        merged.append(
            RuleOutcome(
                rule=rule,
                severity=CRITICAL if error else found[0].severity,
                success=all(o.success for o in found),
                unexpected_rows=tuple(sorted({row for o in found for row in o.unexpected_rows})),
                error=error,
            )
        )
    return merged


def _samples(contract: Contract, frame: pd.DataFrame, rows: tuple[int, ...], landed: Path) -> str:
    """Sample rows for a message (manifest, task log, alert, quality summary), personal data masked: the file
    and row lead to the raw record, kept in landing and quarantine."""
    picked = list(rows[:SAMPLE_ROWS])
    lineage = frame.iloc[picked][["_source_file", "_source_row"]].itertuples(index=False)
    return "; ".join(
        f"{file} row {row}: {mask_raw_record(contract, raw)}"
        for (file, row), raw in zip(lineage, _records_at(landed, picked), strict=True)
    )


def _records_at(landed: Path, rows: list[int]) -> list[str]:
    """The ``_raw`` records of a few rows of a landed file, reading only the row groups that hold them."""
    file, found, start = pq.ParquetFile(landed), {}, 0
    for group in range(file.num_row_groups):
        size = file.metadata.row_group(group).num_rows
        if wanted := [r for r in rows if start <= r < start + size]:
            column = file.read_row_group(group, columns=["_raw"])["_raw"]
            found |= {r: column[r - start].as_py() for r in wanted}
        start += size
    return [found[r] for r in rows]


def _landed_parts(landed: Path, keep: np.ndarray, wanted: bool) -> Iterator[tuple[np.ndarray, pa.Table]]:
    """The landed file's rows whose ``keep`` flag is ``wanted``, a slice at a time, with their positions."""
    start = 0
    for part in pq.ParquetFile(landed).iter_batches(batch_size=PARSE_ROWS):
        mask = keep[start : start + part.num_rows] == wanted
        yield start + np.flatnonzero(mask), pa.Table.from_batches([part.filter(pa.array(mask))])
        start += part.num_rows


def _quarantine_parts(
    landed: Path, keep: np.ndarray, rules_by_row: dict[int, list[str]]
) -> Iterator[pa.Table]:
    """The quarantined rows, a slice at a time, each with the rules that caught it."""
    for positions, part in _landed_parts(landed, keep, wanted=False):
        rules = pa.array([",".join(rules_by_row[i]) for i in positions], pa.string())
        yield part.append_column(QUARANTINE_RULES, rules).append_column(
            READMITTED_BY, pa.nulls(part.num_rows, pa.string())
        )


def _outcomes_path(paths: Paths, contract: Contract, load_date: date, batch_id: str) -> Path:
    return partition(paths.rule_outcomes, contract, load_date) / f"{batch_id}.json"


def _record_outcomes(
    paths: Paths, contract: Contract, batch: manifest.Batch, outcomes: list[RuleOutcome]
) -> None:
    """Keep each rule's result of a batch, accepted or rejected, for the warehouse and the quality summary."""
    records = [
        {
            "batch_id": batch.batch_id,
            "source_entity": contract.key,
            "load_date": batch.load_date,
            "rule": o.rule,
            "severity": o.severity,
            "success": o.success,
            "verdict": o.verdict,
            "unexpected_count": len(o.unexpected_rows),
            "error": o.error,
        }
        for o in outcomes
    ]
    target = _outcomes_path(paths, contract, date.fromisoformat(batch.load_date), batch.batch_id)
    write_text_atomic(json.dumps(records, ensure_ascii=False, indent=2), target)


def recorded_outcomes(paths: Paths, contract: Contract, batch: manifest.Batch) -> list[dict]:
    """The rule results recorded for a batch; none for a batch that was never validated (e.g. a duplicate)."""
    target = _outcomes_path(paths, contract, date.fromisoformat(batch.load_date), batch.batch_id)
    return json.loads(target.read_text()) if target.exists() else []


QUARANTINE_RULES = pa.field("_rules", pa.string())
# The batch that loaded a quarantined row after all (``expectations.readmit``); null while it waits.
READMITTED_BY = pa.field("_readmitted_by", pa.string())


def write_schema_files(paths: Paths, contract: Contract) -> None:
    """Empty, typed files so an entity can be read before any batch of it was accepted or quarantined."""
    schema = contract.arrow_schema()
    for folder, table_schema in (
        (paths.accepted, schema),
        (paths.quarantine, schema.append(QUARANTINE_RULES).append(READMITTED_BY)),
    ):
        target = folder / contract.system / contract.entity / "_schema.parquet"
        if not target.exists() or pq.read_schema(target) != table_schema:
            write_parquet_atomic(table_schema.empty_table(), target)


def _carried(paths: Paths, contract: Contract, load_date: date, batch_id: str, rows: int) -> pd.Series | None:
    """Per landed row, the quarantine rules it was carried with ("" if accepted, null if not carried)."""
    verdicts = carried_verdicts(paths, contract, load_date, batch_id)
    if verdicts is None:
        return None
    carried = pd.Series(None, index=range(rows), dtype=object)
    carried.iloc[verdicts["_row"].to_numpy()] = verdicts["_rules"].to_numpy(zero_copy_only=False)
    return carried


def validate(contract: Contract, load_date: date, paths: Paths | None = None) -> manifest.Batch:
    paths = paths or Paths.from_env()
    batch = manifest.latest(paths.manifest, contract.system, contract.entity, load_date)
    if batch is None:
        raise LookupError(f"{contract.key}: nothing landed for {load_date}; run the landing step first")
    if batch.status in manifest.LOADED_STATUSES:
        return batch  # already validated (or nothing new to validate): a rerun changes nothing
    started = time.perf_counter()
    landed = partition(paths.landing_parquet, contract, load_date) / f"{batch.batch_id}.parquet"
    # What the rules read, without the raw records and the batch's own columns: a city extract's raw
    # records are gigabytes, and only the optional typed columns' check needs them (``records``).
    checked_columns = [c.name for c in contract.columns] + ["_source_file", "_source_row"]
    frame = pq.read_table(landed, columns=checked_columns).to_pandas()
    outcomes = run_suite(
        contract,
        frame,
        load_date,
        paths,
        run_name=batch.batch_id,
        carried=_carried(paths, contract, load_date, batch.batch_id, len(frame)),
        # not held here: run_suite lets go of them once it has read what it needs
        records=pq.read_table(landed, columns=["_raw"])["_raw"] if reads_optional_types(contract) else None,
    )
    _record_outcomes(paths, contract, batch, outcomes)
    write_schema_files(paths, contract)

    failed_critical = [o for o in outcomes if not o.success and o.severity == CRITICAL]
    if failed_critical:
        reasons = [
            f"rule {o.rule} failed"
            + (f" with error: {o.error}" if o.error else f" on {len(o.unexpected_rows)} of {len(frame)} rows")
            + (
                f"; sample rows: {_samples(contract, frame, o.unexpected_rows, landed)}"
                if o.unexpected_rows
                else ""
            )
            for o in failed_critical
        ]
        batch.status, batch.message = (
            "rejected",
            f"{contract.key} batch {batch.batch_id} rejected: " + " | ".join(reasons),
        )
        batch.rows_loaded, batch.rows_quarantined, batch.validated_at = 0, 0, manifest.now()
        manifest.write(paths.manifest, batch)
        raise BatchRejected(batch.message)

    rules_by_row: dict[int, list[str]] = {}
    for o in outcomes:
        for row in o.unexpected_rows if not o.success else ():
            rules_by_row.setdefault(row, []).append(o.rule)
    quarantined = sorted(rules_by_row)
    keep = np.ones(len(frame), dtype=bool)
    keep[quarantined] = False
    schema = pq.read_schema(landed)
    if quarantined:
        write_parquet_parts_atomic(
            _quarantine_parts(landed, keep, rules_by_row),
            schema.append(QUARANTINE_RULES).append(READMITTED_BY),
            partition(paths.quarantine, contract, load_date) / f"{batch.batch_id}.parquet",
        )
        log.warning(
            "%s: %d rows quarantined: %s",
            contract.key,
            len(quarantined),
            _samples(contract, frame, tuple(quarantined), landed),
        )
    accepted = partition(paths.accepted, contract, load_date) / f"{batch.batch_id}.parquet"
    if quarantined:
        write_parquet_parts_atomic(
            (part for _, part in _landed_parts(landed, keep, wanted=True)), schema, accepted
        )
    else:
        sharing(landed, accepted)  # every row accepted: the landed file is the accepted one
    faults.reached("validate.before_commit")

    batch.status = "accepted"
    batch.rows_quarantined = len(quarantined)
    batch.rows_loaded = len(frame) - len(quarantined)
    batch.message = "; ".join(f"{o.rule}: {len(o.unexpected_rows)} rows" for o in outcomes if not o.success)
    batch.validated_at = manifest.now()
    batch.timings_s["validate"] = round(time.perf_counter() - started, 3)
    manifest.write(paths.manifest, batch)
    discard_uncommitted(paths, contract, load_date)  # a later batch for the same day replaces the earlier one
    return batch


def _validated_batches(paths: Paths, contract: Contract, load_date: date) -> list[str]:
    """An entity's extracts of one day that the manifest records as accepted, oldest first."""
    found = manifest.batches(paths.manifest, contract.system, contract.entity, load_date)
    return [b.batch_id for b in found if b.status == "accepted"]


def discard_uncommitted(paths: Paths, contract: Contract, load_date: date | None = None) -> list[Path]:
    """Remove accepted rows of every batch but those standing for their day (``committed_batches``), and
    quarantined rows of batches never accepted; for one day or, by default, all. Returns what was removed.

    Such files are a replaced batch's, or those of a validation (or readmission) killed before its manifest
    commit; that batch's landed Parquet (or quarantine) is kept, so rerunning validates it again.
    """
    removed = []
    for root, kept_of in ((paths.accepted, committed_batches), (paths.quarantine, _validated_batches)):
        folders = (
            [partition(root, contract, load_date)]
            if load_date
            else (root / contract.system / contract.entity).glob("load_date=*")
        )
        for folder in folders:
            day = date.fromisoformat(folder.name.removeprefix("load_date="))
            kept = kept_of(paths, contract, day)
            for stale in folder.glob("*.parquet"):
                if stale.stem not in kept:
                    stale.unlink()
                    removed.append(stale)
    return removed


def data_docs_index(paths: Paths | None = None) -> Path:
    """The page listing every night's Data Docs (each night's site is built by ``expectations.data_docs``)."""
    paths = paths or Paths.from_env()
    return paths.data_docs / "index.html"
