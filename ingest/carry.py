"""Snapshot carry-forward: a snapshot's rows unchanged since its last committed batch are not parsed again.

The sources re-send their master data (residents, members, grids, workers) in full every night, almost all
of it byte-identical to the night before. Each record is identified by a checksum of its raw record (the
``_raw`` JSON of the source's own values, without its place in the file), computed in DuckDB. A row whose
checksum is in the entity's last committed snapshot batch is **carried**: its typed values and its verdict
(accepted, or quarantined with its rules) come from that batch's accepted and quarantine files; only the
new and changed rows are parsed. Validation (``expectations.validate``) then checks again only what can have
changed for a carried row: see ``needs_recheck``.

Carried rows take today's lineage (``_source_file``, ``_source_row``, ``_batch_id``, ``_load_date``,
``_loaded_at``). Nothing is carried across a change of how rows are typed or checked (``rules_version``: the
contract and the code that parses and validates), and a row that a readmission loaded is parsed again (its
verdict belongs to the readmission, not to the batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest import manifest
from ingest.config import REPO_ROOT, Paths, partition
from ingest.contracts import Contract
from ingest.files import sources_digest

# The code a carried row's typed values and verdict came from: a change to any of it re-reads every row once.
RULES_SOURCES = tuple(
    REPO_ROOT / f
    for f in (
        "ingest/parse.py",
        "ingest/normalise.py",
        "ingest/case_catalogue.py",
        "expectations/suites.py",
        "expectations/checks.py",
    )
)

# Per landed row of a batch that carried rows: its position, and the rules that quarantined it in the
# batch it was carried from ("" when that batch accepted it).
VERDICTS_SCHEMA = pa.schema([("_row", pa.int64()), ("_rules", pa.string())])


@dataclass(frozen=True)
class Carried:
    source: manifest.Batch  # the batch the rows were carried from
    positions: pa.Array  # each carried row's position in today's extract, ascending
    previous_rows: pa.Array  # and its row among that batch's committed rows (``committed_values``)
    rules: pa.Array  # and the rules that quarantined it there, "" for accepted


def verdicts_file(paths: Paths, contract: Contract, load_date: date, batch_id: str) -> Path:
    return partition(paths.landing_carried, contract, load_date) / f"{batch_id}.parquet"


def carried_verdicts(paths: Paths, contract: Contract, load_date: date, batch_id: str) -> pa.Table | None:
    """The carried rows of a landed batch and their verdicts (``VERDICTS_SCHEMA``); None if it carried none."""
    target = verdicts_file(paths, contract, load_date, batch_id)
    return pq.read_table(target) if target.exists() else None


def rules_version(contract: Contract) -> str:
    """A digest of the contract's declaration and of the code in ``RULES_SOURCES``."""
    return sources_digest(RULES_SOURCES, REPO_ROOT, salt=repr(contract).encode())[:16]


def carry_source(paths: Paths, contract: Contract, load_date: date) -> manifest.Batch | None:
    """The batch a snapshot's unchanged rows can be carried from: the entity's last accepted extract of an
    earlier night, typed and checked by the same rules; None for an incremental entity or without one."""
    if contract.extract != "snapshot":
        return None
    earlier = [
        b
        for b in manifest.extracts(paths.manifest, contract.system, contract.entity)
        if b.load_date < load_date.isoformat() and b.status == "accepted"
    ]
    if not earlier or earlier[-1].rules_version != rules_version(contract):
        return None
    return earlier[-1]


def _committed_files(paths: Paths, contract: Contract, source: manifest.Batch) -> tuple[Path, Path]:
    night, name = date.fromisoformat(source.load_date), f"{source.batch_id}.parquet"
    return partition(paths.accepted, contract, night) / name, partition(
        paths.quarantine, contract, night
    ) / name


# A committed batch's rows in the order ``previous_rows`` counts them: the accepted, then the quarantined
# that no readmission took, each in file order; with each row's checksum and quarantine rules.
ACCEPTED_CHECKSUMS_SQL = """
select file_row_number as _row, md5_number(_raw) as checksum, '' as _rules
from read_parquet($accepted, file_row_number = true)
"""
QUARANTINED_CHECKSUMS_SQL = """
select $accepted_rows + row_number() over (order by file_row_number) - 1, md5_number(_raw), _rules
from read_parquet($quarantined, file_row_number = true)
where _readmitted_by is null
"""
CARRIED_SQL = """
with today as (select _row, md5_number(_raw) as checksum from today_records)
select today._row as position, min(committed._row) as previous_row,
    arg_min(committed._rules, committed._row) as rules
from today join ({committed}) as committed using (checksum)
group by today._row
order by today._row
"""
# What the checksum join may hold before it spills: a city's residents are two sides of 7.4M rows.
CHECKSUM_MEMORY_LIMIT = "2GB"


def _committed_rows(accepted: Path, quarantined: Path) -> tuple[str, dict]:
    """The query of a committed batch's rows (``ACCEPTED_CHECKSUMS_SQL`` and, if any were quarantined,
    ``QUARANTINED_CHECKSUMS_SQL``) and its parameters."""
    parameters: dict = {"accepted": str(accepted)}
    if not quarantined.exists():
        return ACCEPTED_CHECKSUMS_SQL, parameters
    parameters |= {"quarantined": str(quarantined), "accepted_rows": pq.read_metadata(accepted).num_rows}
    return f"{ACCEPTED_CHECKSUMS_SQL} union all {QUARANTINED_CHECKSUMS_SQL}", parameters


def carry_forward(paths: Paths, contract: Contract, load_date: date, records: pa.Array) -> Carried | None:
    """The rows of today's extract (given as their ``_raw`` records) unchanged since the last committed
    snapshot batch, with their place in that batch and their verdicts; None when nothing can be carried.

    Both sides' checksums are computed and joined in DuckDB, the batch's straight from its files, so the
    previous night's records are never held in memory beside today's."""
    source = carry_source(paths, contract, load_date)
    if source is None:
        return None
    accepted, quarantined = _committed_files(paths, contract, source)
    if not accepted.exists():
        return None
    committed, parameters = _committed_rows(accepted, quarantined)
    with duckdb.connect(config={"memory_limit": CHECKSUM_MEMORY_LIMIT}) as con:
        con.register("today_records", pa.table({"_raw": records, "_row": pa.arange(0, len(records))}))
        found = con.sql(CARRIED_SQL.format(committed=committed), params=parameters).to_arrow_table()
    if not found.num_rows:
        return None
    return Carried(
        source=source,
        positions=found["position"].combine_chunks(),
        previous_rows=found["previous_row"].combine_chunks(),
        rules=found["rules"].combine_chunks(),
    )


def committed_values(
    paths: Paths, contract: Contract, source: manifest.Batch, columns: list[str]
) -> pa.Table:
    """``columns`` of the committed rows of ``source`` (a carry's batch), in the order ``previous_rows``
    counts them."""
    accepted, quarantined = _committed_files(paths, contract, source)
    parts = [pq.read_table(accepted, columns=columns)]
    if quarantined.exists():
        waiting = pq.read_table(quarantined, columns=[*columns, "_readmitted_by"])
        parts.append(waiting.filter(pc.is_null(waiting["_readmitted_by"])).drop_columns(["_readmitted_by"]))
    return pa.concat_tables(parts)
