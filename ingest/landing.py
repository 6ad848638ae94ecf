"""Land one entity's extract for one load date: raw bytes kept, typed Parquet written, manifest updated.

Landing is idempotent: the batch id is derived from the extract's checksum, so the same bytes land once;
a second copy is recognised and changes nothing. Every file is written to a temporary name and renamed
into place (``ingest.files``), and the manifest is written last, so an interrupted landing leaves nothing
half-written behind and no batch recorded that is not there. A landing that cannot write its files (a
full disk) is recorded as ``failed`` with the file it could not write.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ingest import carry, faults, manifest, schema_drift
from ingest.config import Paths, partition
from ingest.contracts import Contract
from ingest.files import replacing
from ingest.parse import PARSE_ROWS, drift, raw_records, source_columns, typed_slices, without_copies
from ingest.readers import ExtractError, read_extract


@dataclass(frozen=True)
class LandResult:
    batch: manifest.Batch
    already_landed: bool


def checksum(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()


def write_parquet_atomic(table: pa.Table, target: Path) -> None:
    write_parquet_parts_atomic([table], table.schema, target)


def write_parquet_parts_atomic(parts: Iterable[pa.Table], schema: pa.Schema, target: Path) -> None:
    """One Parquet file written a part at a time, so a large file is never whole in memory."""
    with replacing(target) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for part in parts:
            writer.write_table(part)
        faults.reached("parquet.mid_file")


def write_text_atomic(text: str, target: Path) -> None:
    with replacing(target) as tmp:
        tmp.write_text(text)


def _keep_raw(files: list[Path], folder: Path) -> None:
    for f in files:
        target = folder / f.name
        if not target.exists():
            with replacing(target) as tmp:
                shutil.copyfile(f, tmp)


def batch_for(contract: Contract, load_date: date, files: list[Path], digest: str) -> manifest.Batch:
    """A new manifest record; its id is derived from the bytes, so the same extract gets the same id."""
    return manifest.Batch(
        batch_id=f"{contract.entity}-{load_date:%Y%m%d}-{digest[:12]}",
        system=contract.system,
        entity=contract.entity,
        load_date=load_date.isoformat(),
        contract_version=contract.version,
        rules_version=carry.rules_version(contract),
        files=[f.name for f in files],
        checksum=digest,
        status="landing",
    )


def record_failure(
    contract: Contract, load_date: date, files: list[Path], digest: str, message: str, paths: Paths
) -> manifest.Batch:
    """Record a landing that did not happen, with why, so the night's summary shows it instead of "missing"."""
    batch = batch_for(contract, load_date, files, digest)
    batch.status, batch.message, batch.landed_at = "failed", message, manifest.now()
    manifest.write(paths.manifest, batch)
    return batch


def _repeats_last_snapshot(paths: Paths, contract: Contract, load_date: date, digest: str) -> bool:
    """Whether the snapshot's bytes are those of the last snapshot that landed before its night."""
    landed = [
        b
        for b in manifest.extracts(paths.manifest, contract.system, contract.entity)
        if b.load_date < load_date.isoformat() and b.status != "failed"
    ]
    return bool(landed) and landed[-1].checksum == digest


def _typed_rows(
    raw: pd.DataFrame, contract: Contract, load_date: date, paths: Paths, carry_forward: bool
) -> tuple[Iterable[pa.Table], carry.Carried | None]:
    """The extract's rows typed, a slice at a time (``parse.typed_slices``), so that a city's largest
    extracts never sit in memory whole as Python strings. A snapshot's rows unchanged since its last
    committed batch are carried from it (``ingest.carry``) instead, with today's place in the file, and
    only the others parsed; then ``raw`` keeps only its rows' count and its attributes."""
    if not carry_forward or carry.carry_source(paths, contract, load_date) is None:
        return typed_slices(raw, contract), None
    records = raw_records(raw, source_columns(raw))
    carried = carry.carry_forward(paths, contract, load_date, records)
    if carried is None:
        return typed_slices(raw, contract, records), None
    fresh = np.ones(len(raw), dtype=bool)
    fresh[carried.positions.to_numpy()] = False
    fresh_rows = raw[fresh]
    source_files = pa.array(raw["_source_file"].astype(str), pa.string())
    source_rows = pa.array(raw["_source_row"].astype("int64"))
    # What is left of the extract is in ``records``, ``fresh_rows`` and the lineage: its columns go before the
    # carried values are gathered (a city's residents are 1.6 GiB of them).
    raw.drop(columns=raw.columns, inplace=True)
    parsed = pa.concat_tables(typed_slices(fresh_rows, contract, records.filter(pa.array(fresh))))
    lineage = ["_source_file", "_source_row", "_raw"]
    typed = parsed.drop_columns(lineage)
    # Every row at its place in today's extract: position i of [fresh rows; the previous batch's rows].
    source = np.empty(len(fresh), dtype=np.int64)
    source[fresh] = np.arange(typed.num_rows)
    source[~fresh] = typed.num_rows + carried.previous_rows.to_numpy()
    previous = carry.committed_values(paths, contract, carried.source, typed.schema.names).cast(typed.schema)
    columns = []
    for field in typed.schema:
        values = pa.chunked_array([*typed[field.name].chunks, *previous[field.name].chunks], field.type)
        previous = previous.drop_columns([field.name])  # a column at a time: its buffers go once taken
        columns.append(values.take(source))
    del values
    # A carried row's raw record is today's: the same text, or its checksum would differ.
    lineage_values = [
        source_files,
        source_rows,
        pa.chunked_array(  # slice by slice: a city's records are more text than one string array holds
            [
                records.slice(start, PARSE_ROWS).cast(pa.string())
                for start in range(0, len(records), PARSE_ROWS)
            ],
            pa.string(),
        ),
    ]
    schema = pa.schema([*typed.schema, *(parsed.schema.field(name) for name in lineage)])
    table = pa.Table.from_arrays(columns + lineage_values, schema=schema)
    return [table.select(parsed.schema.names)], carried


def _with_batch_columns(
    part: pa.Table, contract: Contract, batch_id: str, load_date: date, loaded_at: datetime
) -> pa.Table:
    """A slice of typed rows with the batch's own columns, in the contract's column order."""
    n = part.num_rows
    return (
        part.append_column("_batch_id", pa.repeat(pa.scalar(batch_id, pa.string()), n))
        .append_column("_load_date", pa.repeat(pa.scalar(load_date, pa.date32()), n))
        .append_column("_loaded_at", pa.repeat(pa.scalar(loaded_at, pa.timestamp("us")), n))
        .select(contract.arrow_schema().names)
    )


def _write_verdicts(carried: carry.Carried, target: Path) -> None:
    verdicts = pa.table([carried.positions, carried.rules], schema=carry.VERDICTS_SCHEMA)
    write_parquet_atomic(verdicts, target)


def land(
    contract: Contract,
    load_date: date,
    paths: Paths | None = None,
    source_types: dict[str, str] | None = None,
    carry_forward: bool = True,
) -> LandResult:
    """Land the day's extract. ``source_types`` (column → type) comes from a typed source such as the city
    DB; JSON pages bring their own; a change from the last batch's is recorded as schema drift. Without
    ``carry_forward`` every row of a snapshot is parsed and validated, as on its first night."""
    paths = paths or Paths.from_env()
    drop = paths.drop_dir(contract.system, load_date)
    files = sorted(drop.glob(contract.file_glob))
    if not files:
        raise ExtractError(
            drop / contract.file_glob, f"no extract delivered for {contract.key} on {load_date}"
        )
    started = time.perf_counter()
    digest = checksum(files)
    same_day = manifest.latest(paths.manifest, contract.system, contract.entity, load_date)
    if same_day is not None and same_day.checksum == digest:
        return LandResult(same_day, already_landed=True)  # the same day rerun: nothing to do
    previous = manifest.find_checksum(paths.manifest, contract.system, contract.entity, digest)
    if (
        previous is not None
        and contract.extract == "snapshot"
        and not _repeats_last_snapshot(paths, contract, load_date, digest)
    ):
        previous = None  # back to an earlier state (A, B, A): it must replace B, so it loads as a new batch
    if previous is not None and contract.extract == "incremental" and previous.rows_read > 0:
        # A delta holds one day's changes: the same non-empty delta again is another day's file.
        error = ExtractError(
            drop,
            f"same bytes as batch {previous.batch_id} of {previous.load_date}, a delta of "
            f"{previous.rows_read} rows: a file of another day, not this day's changes; nothing loaded",
        )
        refused = batch_for(contract, load_date, files, digest)
        refused.status, refused.message, refused.landed_at = "failed", str(error), manifest.now()
        manifest.write(paths.manifest, refused)
        raise error
    if previous is not None:
        # The same bytes again on another day (an unchanged snapshot, a file sent twice): record it, load nothing.
        duplicate = batch_for(contract, load_date, files, digest)
        duplicate.status, duplicate.landed_at = "duplicate", manifest.now()
        duplicate.message = f"same bytes as batch {previous.batch_id} of {previous.load_date}; nothing loaded"
        manifest.write(paths.manifest, duplicate)
        return LandResult(duplicate, already_landed=True)

    batch = batch_for(contract, load_date, files, digest)
    try:
        where = files[0] if len(files) == 1 else drop
        raw, copies = without_copies(read_extract(files, contract))
        extra_columns, missing_columns = drift(raw, contract, str(where))
        slices, carried = _typed_rows(raw, contract, load_date, paths, carry_forward)
    except ExtractError as err:
        record_failure(contract, load_date, files, digest, str(err), paths)
        raise
    loaded_at = datetime.now().replace(microsecond=0)
    try:
        _keep_raw(files, partition(paths.landing_raw, contract, load_date) / batch.batch_id)
        verdicts = carry.verdicts_file(paths, contract, load_date, batch.batch_id)
        if carried is not None:
            _write_verdicts(carried, verdicts)
        else:
            verdicts.unlink(missing_ok=True)  # an earlier, interrupted landing of this batch may have carried
        write_parquet_parts_atomic(
            (_with_batch_columns(part, contract, batch.batch_id, load_date, loaded_at) for part in slices),
            contract.arrow_schema(),
            partition(paths.landing_parquet, contract, load_date) / f"{batch.batch_id}.parquet",
        )
    except OSError as err:
        try:
            record_failure(contract, load_date, files, digest, f"{contract.key}: {err}", paths)
        except OSError as unrecorded:  # the manifest lives on the same full disk
            err.add_note(f"and the failure could not be recorded in the manifest: {unrecorded}")
        raise
    n = len(raw)
    batch.status = "landed"
    batch.rows_read = n + copies
    batch.duplicates_dropped = copies
    if carried is not None:
        batch.rows_carried, batch.carried_from = len(carried.positions), carried.source.batch_id
    batch.extra_columns = list(extra_columns)
    batch.missing_columns = list(missing_columns)
    batch.source_types = source_types if source_types is not None else raw.attrs.get("source_types", {})
    batch.type_changes = schema_drift.type_changes(
        schema_drift.previous_types(paths.manifest, contract, load_date), batch.source_types
    )
    batch.landed_at = manifest.now()
    batch.timings_s["land"] = round(time.perf_counter() - started, 3)
    manifest.write(paths.manifest, batch)
    return LandResult(batch, already_landed=False)
