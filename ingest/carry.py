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
from ingest.config import REPO_ROOT, Paths
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
    previous: pa.Table  # that batch's rows: its contract columns and ``_raw``, then ``_rules``
    positions: pa.Array  # each carried row's position in today's extract, ascending
    previous_rows: pa.Array  # and its row in ``previous``

    @property
    def rules(self) -> pa.Array:
        """Each carried row's quarantine rules, "" for accepted."""
        return self.previous["_rules"].take(self.previous_rows).combine_chunks()


def verdicts_file(paths: Paths, contract: Contract, load_date: date, batch_id: str) -> Path:
    return (
        paths.landing_carried
        / contract.system
        / contract.entity
        / f"load_date={load_date.isoformat()}"
        / f"{batch_id}.parquet"
    )


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


def carry_forward(paths: Paths, contract: Contract, load_date: date, records: pa.Array) -> Carried | None:
    """The rows of today's extract (given as their ``_raw`` records) unchanged since the last committed
    snapshot batch, with their typed values and verdicts from that batch; None when nothing can be carried."""
    source = carry_source(paths, contract, load_date)
    if source is None:
        return None
    folder = f"load_date={source.load_date}/{source.batch_id}.parquet"
    accepted = paths.accepted / contract.system / contract.entity / folder
    quarantined = paths.quarantine / contract.system / contract.entity / folder
    if not accepted.exists():
        return None
    columns = [n for n in contract.arrow_schema().names if not n.startswith("_")] + ["_raw"]
    parts = [pq.read_table(accepted, columns=columns)]
    parts[0] = parts[0].append_column("_rules", pa.array([""] * parts[0].num_rows, pa.string()))
    if quarantined.exists():
        waiting = pq.read_table(quarantined, columns=[*columns, "_rules", "_readmitted_by"])
        parts.append(waiting.filter(pc.is_null(waiting["_readmitted_by"])).drop_columns(["_readmitted_by"]))
    previous = pa.concat_tables(parts)
    with duckdb.connect() as con:
        con.register("today", pa.table({"_raw": records, "_row": pa.array(range(len(records)), pa.int64())}))
        con.register(
            "previous",
            pa.table({"_raw": previous["_raw"], "_row": pa.array(range(previous.num_rows), pa.int64())}),
        )
        found = con.sql(
            "select today._row as position, min(previous._row) as previous_row"
            " from (select _row, md5(_raw) as checksum from today) as today"
            " join (select _row, md5(_raw) as checksum from previous) as previous using (checksum)"
            " group by today._row order by today._row"
        ).fetch_arrow_table()
    if not found.num_rows:
        return None
    return Carried(
        source=source,
        previous=previous,
        positions=found["position"].combine_chunks(),
        previous_rows=found["previous_row"].combine_chunks(),
    )
