"""The reference limit: DuckDB's own readers turning the same raw extract files into Parquet.

No parsing by contract, no validation, no warehouse: just how fast this machine can read the bytes and
write them columnar. DuckDB reads UTF-8 (with or without BOM) itself; its CSV reader has no GBK/GB18030
without the ``encodings`` extension, which is downloaded at run time and so unavailable offline. The
party system's GBK files are therefore transcoded to UTF-8 by Python's codec first, and that transcoding
is counted in the reference's time, so both sides pay for decoding GBK. DuckDB has no XLSX reader offline
either (the ``excel`` extension is a run-time download), so the one XLSX extract, the service-item list, is
streamed by openpyxl (read-only) into Arrow, its data rows being those the export numbers in the first
column (序号), and written by DuckDB: the cheapest read of that file this machine has.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa

from ingest.config import Paths
from ingest.contracts import CONTRACTS, Contract


@dataclass(frozen=True)
class ReferenceRead:
    entity: str
    files: int
    bytes: int
    rows: int
    seconds: float


def _sql_list(files: list[Path]) -> str:
    return "[" + ", ".join(f"'{f}'" for f in files) + "]"


def _as_utf8(files: list[Path], scratch: Path) -> list[Path]:
    """The files as DuckDB can read them: UTF-8 ones as they are, GBK ones transcoded into ``scratch``."""
    readable = []
    for f in files:
        data = f.read_bytes()
        try:
            data.decode("utf-8")
            readable.append(f)
        except UnicodeDecodeError:
            target = scratch / f.name
            target.write_bytes(data.decode("gb18030").encode("utf-8"))
            readable.append(target)
    return readable


def _xlsx_rows(files: list[Path]) -> pa.Table:
    """Every numbered row of each workbook's first sheet, as text."""
    rows = []
    for f in files:
        book = openpyxl.load_workbook(f, read_only=True)
        try:
            rows += [r for r in book.worksheets[0].iter_rows(values_only=True) if isinstance(r[0], int)]
        finally:
            book.close()
    width = max((len(r) for r in rows), default=0)
    return pa.table(
        {
            f"c{i}": pa.array([None if i >= len(r) or r[i] is None else str(r[i]) for r in rows])
            for i in range(width)
        }
    )


def _select(contract: Contract, files: list[Path], scratch: Path) -> str:
    if contract.format == "xlsx":
        return "select * from xlsx_rows"
    if contract.format == "csv":
        return f"select * from read_csv({_sql_list(_as_utf8(files, scratch))}, header = true, all_varchar = true)"
    if contract.format == "json_pages":
        records = ".".join(contract.json_records_path)
        return (
            f"select unnest(r) from (select unnest({records}) as r "
            f"from read_json({_sql_list(files)}, maximum_object_size = 1073741824))"
        )
    return (
        f"select * from read_json({_sql_list(files)}, maximum_object_size = 1073741824)"  # GeoJSON built in
    )


def read_night(load_date: date, paths: Paths) -> list[ReferenceRead]:
    """Convert every extract of ``load_date`` to Parquet with DuckDB, one entity at a time."""
    reads = []
    with tempfile.TemporaryDirectory(prefix="gridfusion-reference-") as tmp:
        scratch = Path(tmp)
        con = duckdb.connect()
        for contract in CONTRACTS:
            files = sorted(paths.drop_dir(contract.system, load_date).glob(contract.file_glob))
            if not files:
                continue
            target = scratch / f"{contract.system}.{contract.entity}.parquet"
            started = time.perf_counter()
            if contract.format == "xlsx":
                con.register("xlsx_rows", _xlsx_rows(files))
            con.execute(
                f"copy ({_select(contract, files, scratch)}) to '{target}' (format parquet, compression zstd)"
            )
            seconds = time.perf_counter() - started
            rows = con.execute(f"select count(*) from read_parquet('{target}')").fetchall()[0][0]
            reads.append(
                ReferenceRead(contract.key, len(files), sum(f.stat().st_size for f in files), rows, seconds)
            )
        con.close()
    return reads
