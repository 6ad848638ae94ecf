"""Raw string records → typed rows under the contract, with the raw record kept beside the clean one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from ingest import normalise
from ingest.contracts import Column, Contract
from ingest.readers import ExtractError

LINEAGE = ("_source_row", "_source_file")


@dataclass(frozen=True)
class Parsed:
    table: pa.Table
    extra_columns: tuple[str, ...]  # schema drift: columns the source sent that the contract does not know
    missing_columns: tuple[str, ...] = ()  # schema drift: optional contract columns the source did not send


def source_columns(raw: pd.DataFrame) -> list[str]:
    """The columns the source sent, in its order (``parse`` checks them against the contract)."""
    return [c for c in raw.columns if c not in LINEAGE]


# Rows whose source values hash alike (DuckDB's ``hash`` of all of them, passed as its arguments: without
# the ``*`` it would hash each column apart): the only rows that can be copies.
SAME_HASH_SQL = """
with hashed as (select _row, hash(*columns(* exclude (_row))) as row_hash from extract)
select _row from hashed
semi join (select row_hash from hashed group by row_hash having count(*) > 1) using (row_hash)
order by _row
"""


def hashing_alike(values: pa.Table) -> np.ndarray:
    """The positions of the rows whose values hash like another row's (``SAME_HASH_SQL``), ascending."""
    with duckdb.connect() as con:
        con.register("extract", values.append_column("_row", pa.arange(0, values.num_rows)))
        return con.sql(SAME_HASH_SQL).fetchnumpy()["_row"]


def without_copies(raw: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The extract without exact copies of a row (every column as sent: the export repeating it), and how
    many were dropped. Copies that differ in any column stay, for the key's uniqueness rule to refuse.

    DuckDB hashes every row and finds the few whose hash repeats; only those are compared value by value
    (pandas' ``duplicated``), so a snapshot of millions of rows is not factorised column by column."""
    columns = source_columns(raw)
    if len(raw) < 2 or not columns:
        return raw, 0
    values = pa.table(
        {f"c{n}": pa.array(raw[name], pa.large_string(), from_pandas=True) for n, name in enumerate(columns)}
    )
    alike = hashing_alike(values)
    copies = np.zeros(len(raw), dtype=bool)
    copies[alike] = raw.iloc[alike].duplicated(subset=columns).to_numpy()
    if not copies.any():
        return raw, 0
    kept = raw[~copies].reset_index(drop=True)
    kept.attrs = raw.attrs  # what the reader learnt of the source (its column types)
    return kept, int(copies.sum())


def parse(raw: pd.DataFrame, contract: Contract, where: str, records: pa.Array | None = None) -> Parsed:
    """Type the raw records by the contract (``typed_slices``), after ``drift`` has checked the columns.
    ``records`` are the rows' ``raw_records`` when already built."""
    extra, missing = drift(raw, contract, where)
    return Parsed(pa.concat_tables(typed_slices(raw, contract, records)), extra, missing)


def drift(raw: pd.DataFrame, contract: Contract, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The extract's unknown columns (kept in ``_raw``) and missing optional ones (loaded as null). A missing
    required column fails the extract, and so does a missing column beside an unknown one, which is how a
    renamed column looks."""
    present = source_columns(raw)
    missing = [c for c in contract.columns if c.source not in present]
    known = {c.source for c in contract.columns}
    extra = tuple(c for c in present if c not in known)
    required = [c.source for c in missing if c.required]
    if required:
        raise ExtractError(
            where,
            f"missing column(s) {required} required by contract {contract.key} v{contract.version}"
            + (f"; the extract has unknown column(s) {list(extra)} (renamed?)" if extra else ""),
        )
    if missing and extra:  # an optional column under a new name would otherwise load as null
        raise ExtractError(
            where,
            f"missing column(s) {[c.source for c in missing]} of contract {contract.key} v{contract.version} "
            f"and unknown column(s) {list(extra)}: renamed? (an optional column may be missing, "
            "or an unknown one added, but not both at once)",
        )
    return extra, tuple(c.source for c in missing)


# Rows typed at a time: a city extract's values as Python strings, all at once, would not fit in memory.
PARSE_ROWS = 500_000


def typed_slices(
    raw: pd.DataFrame, contract: Contract, records: pa.Array | None = None
) -> Iterator[pa.Table]:
    """The rows typed by the contract with their lineage and raw record, ``PARSE_ROWS`` at a time (at least
    one slice, empty for an empty extract). ``records``, when given, are the rows' ``raw_records``."""
    present = source_columns(raw)
    schema = contract.arrow_schema()
    for start in range(0, max(len(raw), 1), PARSE_ROWS):
        part = raw.iloc[start : start + PARSE_ROWS]
        yield _typed(
            part,
            contract,
            present,
            raw_records(part, present) if records is None else records.slice(start, PARSE_ROWS),
            schema,
        )


def _typed(raw: pd.DataFrame, contract: Contract, present: list[str], records: pa.Array, schema: pa.Schema):
    """One slice of the extract typed by the contract, with its lineage and raw records, in ``schema``'s order."""
    blank = pd.Series("", index=raw.index, dtype=object)
    typed = pd.DataFrame(
        {
            c.name: normalise.column(c, raw[c.source] if c.source in present else blank)
            for c in contract.columns
        },
        index=raw.index,
    )
    typed["_source_file"] = raw["_source_file"].astype(str)
    typed["_source_row"] = raw["_source_row"].astype("int64")
    fields = [f for f in schema if f.name in typed.columns]
    table = pa.Table.from_pandas(typed, schema=pa.schema(fields), preserve_index=False)
    table = table.append_column(schema.field("_raw"), records.cast(schema.field("_raw").type))
    return table.select([f.name for f in schema if f.name in table.column_names])


def _json_escaped(values: pa.Array) -> pa.Array:
    """Each value as it stands between the quotes of a JSON string literal, as ``json.dumps(value,
    ensure_ascii=False)`` writes it: the few values with a quote, backslash or control character are escaped
    by ``json`` itself, the rest stand as they are."""
    escape = pc.fill_null(pc.match_substring_regex(values, r'[\x00-\x1f"\\]'), False)
    if pc.any(escape).as_py():
        escaped = [json.dumps(v, ensure_ascii=False)[1:-1] for v in values.filter(escape).to_pylist()]
        values = pc.replace_with_mask(values, escape, pa.array(escaped, values.type))
    return values


def raw_records(raw: pd.DataFrame, columns: list[str]) -> pa.Array:
    """Each row's source record as a JSON object in the source's own column names, built column-wise:
    the same text ``json.dumps(dict(...), ensure_ascii=False)`` writes row by row. Large strings: a city's
    case steps hold more than the 2 GiB of text one Arrow string array can.

    One join puts the record together: the text between two values (the quotes around a value included)
    is a constant, except beside a column with missing values, which quotes its own values and writes a
    missing one as ``null``."""
    text = pa.large_string()
    pieces: list = []
    between = "{"
    for n, name in enumerate(columns):
        between += ("" if n == 0 else ", ") + json.dumps(name, ensure_ascii=False) + ": "
        values = _json_escaped(pa.array(raw[name], type=text, from_pandas=True))
        if values.null_count:
            quote = pa.scalar('"', text)
            values = pc.fill_null(
                pc.binary_join_element_wise(quote, values, quote, pa.scalar("", text)),
                pa.scalar("null", text),
            )
            pieces += [pa.scalar(between, text), values]
            between = ""
        else:
            pieces += [pa.scalar(between + '"', text), values]
            between = '"'
    return pc.binary_join_element_wise(*pieces, pa.scalar(between + "}", text), pa.scalar("", text))


# Types whose reading can fail; a text, name or code value is always kept as sent.
READ_TYPES = ("int", "float", "date", "timestamp", "phone")


def reads_optional_types(contract: Contract) -> list[Column]:
    """The optional columns whose source value may fail to read (``unreadable`` checks them)."""
    return [c for c in contract.columns if c.type in READ_TYPES and not c.required]


def unreadable(
    frame: pd.DataFrame, records: pa.Array | pa.ChunkedArray | None, contract: Contract
) -> pd.Series:
    """Per landed row, the optional typed columns whose source value was present but could not be read
    (``不详`` as a date, ``21户`` as a count), comma-joined; null when there are none. ``records`` are the
    rows' ``_raw`` records, needed only when the contract has such columns. Required columns need no such
    list: their not-null rule already catches an unreadable value."""
    columns = reads_optional_types(contract)
    if not columns or frame.empty:
        return pd.Series(None, index=frame.index, dtype=object)
    parts = []
    for start in range(0, len(frame), PARSE_ROWS):
        part = frame.iloc[start : start + PARSE_ROWS]
        sent_values = _raw_values(records.slice(start, PARSE_ROWS), [c.source for c in columns])
        names = []
        for col in columns:
            sent = pc.not_equal(pc.utf8_trim(sent_values.column(col.source), normalise.WHITESPACE), "")
            failed = pc.and_(pc.fill_null(sent, False), pa.array(part[col.name].isna().to_numpy()))
            names.append(pc.if_else(failed, col.name + ",", ""))
        joined = pc.utf8_rtrim(pc.binary_join_element_wise(*names, ""), ",")
        parts.append(
            pd.Series(pc.if_else(pc.equal(joined, ""), None, joined), index=part.index, dtype=object)
        )
    return pd.concat(parts)


def _raw_values(records: pa.Array | pa.ChunkedArray, sources: list[str]) -> pa.Table:
    """The named source values of each ``_raw`` record, by Arrow's JSON reader: the records, each followed
    by a line break, are one JSON-lines buffer without passing through Python strings."""
    line_break = pa.scalar("\n", records.type)
    lines = pc.binary_join_element_wise(records, pa.scalar("", records.type), line_break)
    lines = lines.combine_chunks() if isinstance(lines, pa.ChunkedArray) else lines
    _, offsets, data = lines.buffers()
    width = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    first, last = np.frombuffer(offsets, width)[[lines.offset, lines.offset + len(lines)]]
    body = data[int(first) : int(last)]
    schema = pa.schema([(source, pa.string()) for source in sources])
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    return pa_json.read_json(pa.BufferReader(body), parse_options=options).select(sources)
