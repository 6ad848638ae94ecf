"""Read one entity's extract files into raw string records, by the contract's format.

Readers never guess: the CSV encoding is detected (charset-normalizer), JSON pages must be complete and in
sequence, and a file that breaks the contract raises ``ExtractError`` naming the file, row and rule.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from charset_normalizer import from_bytes
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from ingest.contracts import Contract


class ExtractError(ValueError):
    """An extract file that cannot be read under its contract."""

    def __init__(self, file: Path | str, rule: str, row: int | None = None, column: str | None = None):
        where = (
            f"{file}"
            + (f", row {row}" if row is not None else "")
            + (f", column {column!r}" if column else "")
        )
        super().__init__(f"{where}: {rule}")
        self.file, self.rule, self.row, self.column = str(file), rule, row, column


# Bytes of a file's non-ASCII lines that charset-normalizer is shown: it decodes what it is given with each
# candidate encoding, and a city's volunteer records are tens of megabytes.
DETECT_SAMPLE_BYTES = 2**20


def detect_encoding(data: bytes, file: Path) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"  # e.g. Excel's "Unicode text" export
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    lines = [(n, line) for n, line in enumerate(data.split(b"\n"), start=1) if not line.isascii()]
    _refuse_mixed(lines, file)
    sample = _sample(lines)
    encoding = _best_encoding(sample) if sample is not None else None
    if encoding is not None:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:  # the sample did not show what the rest needs
            encoding = None
    encoding = encoding or _best_encoding(data)
    if encoding is None:
        raise ExtractError(file, "cannot detect the text encoding")
    return encoding


def _sample(lines: list[tuple[int, bytes]]) -> bytes | None:
    """The first non-ASCII lines, whole, up to about ``DETECT_SAMPLE_BYTES``: what tells encodings apart.
    None when that is all of them: a smaller file is judged whole, as a few words can pass for another
    encoding."""
    taken, size = [], 0
    for _, line in lines:
        if size >= DETECT_SAMPLE_BYTES:
            return b"\n".join(taken)
        taken.append(line)
        size += len(line) + 1
    return None


def _best_encoding(data: bytes) -> str | None:
    best = from_bytes(data).best()
    if best is None:
        return None
    # GB2312 and GBK are subsets of GB18030: decode with the superset so rare characters survive.
    return "gb18030" if best.encoding.lower() in {"gb2312", "gbk", "gb18030"} else best.encoding


def _is_utf8_chinese(line: bytes) -> bool:
    """Whether a line is UTF-8 holding Chinese text. Decoding as UTF-8 alone is not proof: short GBK text can
    be valid UTF-8 by accident (魏英 in GBK reads as κӢ), but that way it yields no CJK ideographs, which
    take three bytes in UTF-8."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _refuse_mixed(lines: list[tuple[int, bytes]], file: Path) -> None:
    """A file that is not UTF-8 as a whole but has UTF-8 lines of Chinese text (``lines``: its non-ASCII
    lines, numbered) was glued from two exports: refuse it, since decoding it either way turns part of it
    into mojibake."""
    utf8 = next((n for n, line in lines if _is_utf8_chinese(line)), None)
    if utf8 is not None:
        other = next(n for n, line in lines if not _is_utf8_chinese(line))
        raise ExtractError(file, f"mixed encodings: line {utf8} is UTF-8, line {other} is not")


DELIMITERS = (",", "\t", ";", "|")


def _delimiter(header_line: str, contract: Contract) -> str:
    """The delimiter that splits the header into the contract's columns (Excel's text exports use tabs)."""
    wanted = {c.source for c in contract.columns}
    for delimiter in DELIMITERS:
        if wanted <= {h.strip() for h in next(csv.reader([header_line], delimiter=delimiter))}:
            return delimiter
    return ","


def read_csv(path: Path, contract: Contract) -> pd.DataFrame:
    """A CSV extract as text records, parsed by DuckDB. A file DuckDB's strict reader refuses, or one with a
    blank line (which DuckDB skips), is read by Python's ``csv`` instead, which names the row and fault."""
    data = path.read_bytes()
    if not data.strip():
        raise ExtractError(path, "file is empty")
    encoding = detect_encoding(data, path)
    text = data.decode(encoding).removeprefix("\ufeff")
    header_line = text.partition("\n")[0]
    delimiter = _delimiter(header_line, contract)
    header = next(csv.reader([header_line.rstrip("\r")], delimiter=delimiter))
    if duckdb_reads_as_python(text, delimiter):
        try:
            return read_csv_duckdb(path, text if encoding != "utf-8" else None, delimiter, header)
        except duckdb.Error:
            pass
    return read_csv_python(path, text, delimiter)


def duckdb_reads_as_python(text: str, delimiter: str) -> bool:
    """Whether DuckDB's reader gives what Python's ``csv`` gives: not for a blank line (DuckDB skips it, Python
    returns an empty record, a fault it reports), nor for spaces between a quote and its field's edge (DuckDB
    drops them and unquotes the field, Python keeps them as text or refuses the row). The line break ending
    the last record is not a blank line.

    Plain substring searches answer for most files: Python's regex engine took 5.5 s over a quarter city's
    case steps (296 MB), the searches 0.7 s; the regex runs only where a space stands beside a quote."""
    if text.startswith(("\n", "\r\n")) or "\n\n" in text or "\n\r\n" in text:
        return False
    if ' "' not in text and '" ' not in text:
        return True
    d = re.escape(delimiter)
    return re.search(rf'(?:^|[\n{d}]) +"|" +(?:[\r\n{d}]|$)', text) is None


def read_csv_duckdb(path: Path, text: str | None, delimiter: str, header: list[str]) -> pd.DataFrame:
    """The records after the header, as text, by DuckDB's reader in strict mode: a record of another width
    than the header, or a quote out of place, is an error (``duckdb.Error``). ``text`` is the file decoded
    when it is not stored as UTF-8 (DuckDB reads only UTF-8): it is written out as UTF-8 first."""
    width = len(header)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    with tempfile.TemporaryDirectory() as scratch, duckdb.connect() as con:
        source = path
        if text is not None:
            source = Path(scratch) / "utf8.csv"
            source.write_text(text, encoding="utf-8", newline="")
        body = con.sql(
            f"select * from read_csv({_sql_text(str(source))}, auto_detect = false, header = true,"
            f" columns = {columns}, delim = {_sql_text(delimiter)}, quote = '\"', escape = '\"',"
            " strict_mode = true, null_padding = false, max_line_size = 100000000)"
        ).fetch_arrow_table()
    # Kept as Arrow-backed text: parsing turns a slice at a time into Python strings (``ingest.parse``).
    frame = pa.table({str(i): body.column(i).fill_null("") for i in range(width)}).to_pandas()
    frame.columns = [h.strip() for h in header]
    return _with_lineage(frame, path)


def _with_lineage(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    frame["_source_row"] = range(1, len(frame) + 1)
    frame["_source_file"] = path.name
    return frame


def read_csv_python(path: Path, text: str, delimiter: str) -> pd.DataFrame:
    """A CSV's decoded text as records by Python's ``csv``: slower than DuckDB, but it names the fault."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    try:
        rows.extend(reader)
    except csv.Error as err:
        raise ExtractError(
            path, f"malformed CSV ({err}): an unbalanced quote or a cut-off file", row=len(rows)
        ) from None
    header, body = rows[0], rows[1:]
    for number, row in enumerate(body, start=1):
        if len(row) != len(header):
            raise ExtractError(
                path,
                f"has {len(row)} fields, the header has {len(header)} (truncated or malformed)",
                row=number,
            )
    return _with_lineage(pd.DataFrame(body, columns=[h.strip() for h in header], dtype="str"), path)


def _load_json(path: Path, what: str = "JSON") -> dict:
    data = path.read_bytes()
    if not data.strip():
        raise ExtractError(path, "file is empty")
    try:
        return json.loads(data.decode(detect_encoding(data, path)))
    except json.JSONDecodeError as err:
        raise ExtractError(path, f"invalid {what} ({err.msg})", row=err.lineno) from None


def _page_text(path: Path) -> pa.Array:
    """A page as a one-value Arrow string array, without copying it through Python text when it is UTF-8."""
    data = path.read_bytes()
    if not data.strip():
        raise ExtractError(path, "file is empty")
    data = data.removeprefix(b"\xef\xbb\xbf")
    page = pa.Array.from_buffers(
        pa.binary(), 1, [None, pa.py_buffer(np.array([0, len(data)], np.int32)), pa.py_buffer(data)]
    )
    try:
        return page.cast(pa.string())  # checks that it is UTF-8
    except pa.ArrowInvalid:
        return pa.array([data.decode(detect_encoding(data, path))], pa.string())


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(literal: str) -> str:
    return "'" + literal.replace("'", "''") + "'"


def _kind(structure) -> str:
    """A JSON value's type as DuckDB's ``json_structure`` names it; objects and arrays by their kind."""
    if isinstance(structure, dict):
        return "OBJECT"
    return "ARRAY" if isinstance(structure, list) else structure


def _records_shape(structure, path: tuple[str, ...]):
    """The merged shape of a page's records (a dict of key → type), or the page's first departure from
    ``{path: [record, ...]}``: a string naming what is wrong."""
    node = structure
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return f"JSON has no {'.'.join(path)}"
        node = node[key]
    if not isinstance(node, list):
        return f"JSON {'.'.join(path)} is not a list"
    if node[0] == "NULL":
        return {}
    if not isinstance(node[0], dict):
        return f"JSON {'.'.join(path)} holds {_kind(node[0]).lower()}s, not records"
    return node[0]


def _as_python_text(value: str, kinds: set[str]) -> str:
    """A record's value as text, as ``str()`` of the value ``json.loads`` gives: booleans as True/False."""
    if kinds - {"NULL"} == {"BOOLEAN"}:
        return f"case {value} when 'true' then 'True' when 'false' then 'False' end"
    return value


# Pages parsed at a time: DuckDB's parse of a year of service applications at once outgrew the machine.
PAGE_GROUP_BYTES = 256 * 2**20


def _page_groups(paths: list[Path]) -> Iterator[list[tuple[int, Path]]]:
    """The pages with their place in the extract, in groups of about ``PAGE_GROUP_BYTES``."""
    group: list[tuple[int, Path]] = []
    size = 0
    for n, path in enumerate(paths):
        group.append((n, path))
        size += path.stat().st_size
        if size >= PAGE_GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _register_pages(con: duckdb.DuckDBPyConnection, group: list[tuple[int, Path]]) -> None:
    """A group of pages as the view ``pages`` (page_at, doc): a record batch per page, parsed in parallel."""
    schema = pa.schema([("page_at", pa.int64()), ("doc", pa.string())])
    batches = [pa.record_batch([pa.array([n]), _page_text(path)], schema=schema) for n, path in group]
    con.register("pages", pa.Table.from_batches(batches, schema=schema))


def read_json_pages(paths: list[Path], contract: Contract) -> pd.DataFrame:
    """Paged API responses: ``{"data": {"page": n, "pages": N, "total": T, "records": [...]}}``.

    Pages 1..N must all be present, each once, agreeing on N and T, and holding T records between them.
    DuckDB's JSON functions parse the pages (each twice: once for their shape, once for their values) and
    turn the records into columns of text: numbers and booleans as Python writes them, ``null`` or missing
    as empty, a nested value as its JSON; a column per key in the order the keys first appear.
    ``frame.attrs["source_types"]`` holds each key's JSON type as sent (``JSON`` when the pages mix types).
    """
    record_path = contract.json_records_path
    con = duckdb.connect()
    envelope_at = "$" + "".join(f".{_ident(key)}" for key in record_path[:-1])
    heads_sql = ", ".join(
        f"json_extract(doc, {_sql_text(at)})"
        for at in ("$.code", "$.msg", *(f"{envelope_at}.{key}" for key in ("page", "pages", "total")))
    )
    structures, heads = [], []
    for group in _page_groups(paths):
        _register_pages(con, group)
        try:
            for structure, *head in con.sql(
                f"select json_structure(doc), {heads_sql} from pages order by page_at"
            ).fetchall():
                structures.append(json.loads(structure))
                heads.append(head)
        except duckdb.InvalidInputException:
            ((first,),) = con.sql("select min(page_at) from pages where not json_valid(doc)").fetchall()
            _load_json(paths[first])  # Python's parser names the line
            raise ExtractError(paths[first], "invalid JSON") from None

    shapes = [_records_shape(s, record_path) for s in structures]
    kinds: dict[str, set[str]] = {}
    for shape in shapes:
        for key, structure in shape.items() if isinstance(shape, dict) else ():
            kinds.setdefault(key, set()).add(_kind(structure))
    columns = list(kinds)
    records = [dict.fromkeys(columns, "VARCHAR")] if columns else "JSON"
    envelope = dict.fromkeys(("page", "pages", "total"), "JSON") | {record_path[-1]: records}
    for key in reversed(record_path[:-1]):
        envelope = {key: envelope}
    data = "d" + "".join(f".{_ident(key)}" for key in record_path[:-1])
    seen_pages, declared, totals = [], {}, {}
    for path, shape, head in zip(paths, shapes, heads, strict=True):
        code, msg, page, pages_declared, total = (None if v is None else json.loads(v) for v in head)
        if code is not None and code not in (0, "0", 200):
            raise ExtractError(path, f"the API answered an error: code {code}, {msg!r}")
        if isinstance(shape, str):
            raise ExtractError(path, shape)
        seen_pages.append(int(page if page is not None else len(seen_pages) + 1))
        declared[path.name] = int(pages_declared if pages_declared is not None else 1)
        if total is not None:
            totals[path.name] = int(total)
    for name, counts in (("pages", declared), ("total", totals)):
        if len(set(counts.values())) > 1:
            raise ExtractError(paths[0].parent, f"the pages disagree on {name}: {counts}")
    pages_count = next(iter(declared.values()), 0)
    missing = sorted(set(range(1, pages_count + 1)) - set(seen_pages))
    if missing:
        raise ExtractError(paths[0].parent, f"JSON pages {missing} of {pages_count} are missing")
    if sorted(seen_pages) != list(range(1, pages_count + 1)):
        raise ExtractError(
            paths[0].parent, f"JSON pages {sorted(seen_pages)} do not run 1..{pages_count} once each"
        )

    if not columns:  # no page holds a record
        frame = pd.DataFrame({"_source_row": pd.Series([], dtype="int64"), "_source_file": []})
        frame.attrs["source_types"] = {}
        return frame
    files = _sql_text(json.dumps([p.name for p in paths]))
    texts = [
        f"coalesce({_as_python_text(f'r.{_ident(key)}', kinds[key])}, '') as {_ident(key)}" for key in columns
    ]
    parts = []
    for group in _page_groups(paths):
        _register_pages(con, group)
        parts.append(
            con.sql(
                f"select {''.join(t + ', ' for t in texts)}_source_row,"
                f" ({files}::varchar[])[page_at + 1] as _source_file"
                f" from (select page_at, unnest(rs) as r, unnest(range(1, len(rs) + 1)) as _source_row"
                f" from (select page_at, {data}.{_ident(record_path[-1])} as rs"
                f" from (select page_at, from_json(doc, {_sql_text(json.dumps(envelope))}) as d from pages)))"
                " order by page_at, _source_row"
            ).fetch_arrow_table()
        )
    con.close()
    frame = pa.concat_tables(parts).to_pandas()
    if totals and len(frame) != next(iter(totals.values())):
        raise ExtractError(
            paths[0].parent,
            f"the pages declare a total of {next(iter(totals.values()))} records but hold {len(frame)}",
        )
    sent = {key: found - {"NULL"} for key, found in kinds.items()}
    frame.attrs["source_types"] = {
        key: found.pop() if len(found) == 1 else "JSON" for key, found in sent.items() if found
    }
    return frame


def read_geojson(path: Path, contract: Contract) -> pd.DataFrame:
    document = _load_json(path, "GeoJSON")
    if document.get("type") != "FeatureCollection":
        raise ExtractError(path, "GeoJSON is not a FeatureCollection")
    rows = []
    for number, feature in enumerate(document.get("features", []), start=1):
        props = {k: "" if v is None else str(v) for k, v in (feature.get("properties") or {}).items()}
        props["geometry"] = json.dumps(feature.get("geometry"), ensure_ascii=False)
        props["_source_row"] = number
        props["_source_file"] = path.name
        rows.append(props)
    return pd.DataFrame(rows, dtype="str")


HEADER_SEPARATOR = "/"  # a column under a merged group header: ``办理要求/承诺时限(工作日)``


def _cell_text(value) -> str:
    """A cell as the source's text: a date cell in ISO form, a whole number without ``.0``, empty as ``""``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _flatten(rows: list[tuple[str, ...]]) -> list[str]:
    """Column names from a header block of ``len(rows)`` rows. A read-only stream does not carry merged
    ranges: a merged cell is its top-left value and blanks. So a blank above a labelled cell belongs to the
    group spanning from the left, and a blank below a label is that label spanning down."""
    width = max(len(r) for r in rows)
    grid = [list(r) + [""] * (width - len(r)) for r in rows]
    for level in range(len(grid) - 1):
        for col in range(1, width):
            if not grid[level][col] and any(grid[lower][col] for lower in range(level + 1, len(grid))):
                grid[level][col] = grid[level][col - 1]
    return [
        HEADER_SEPARATOR.join(p for p in (grid[lv][col] for lv in range(len(grid))) if p)
        for col in range(width)
    ]


def read_xlsx(path: Path, contract: Contract) -> pd.DataFrame:
    """The first sheet of an XLSX export, streamed (openpyxl read-only): rows above the header (a title) are
    skipped, the header block (one row per level of the contract's ``group/column`` names) is flattened to
    those names, and each data row keeps its spreadsheet row number as ``_source_row``."""
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as err:
        raise ExtractError(path, f"not an XLSX workbook ({type(err).__name__}: {err})") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        depth = max(c.source.count(HEADER_SEPARATOR) + 1 for c in contract.columns)
        tops = {c.source.split(HEADER_SEPARATOR)[0] for c in contract.columns}
        header_row, header, seen = 0, None, False
        for number, values in enumerate(rows, start=1):
            texts = tuple(_cell_text(v) for v in values)
            seen = seen or any(texts)
            if len(tops.intersection(texts)) >= min(2, len(tops)):
                block = [texts] + [tuple(_cell_text(v) for v in next(rows, ())) for _ in range(depth - 1)]
                header_row, header = number, _flatten(block)
                break
        if header is None:
            rule = "no header row found" if seen else "sheet is empty"
            raise ExtractError(path, f"{rule}: expected a header with {sorted(tops)}")
        _check_header(path, contract, header, header_row, depth)
        wanted = [i for i, name in enumerate(header) if name]
        body, numbers = [], []
        for number, values in enumerate(rows, start=header_row + depth):
            texts = [_cell_text(values[i]) if i < len(values) else "" for i in wanted]
            if any(texts):
                body.append(texts)
                numbers.append(number)
    finally:
        book.close()
    frame = pd.DataFrame(body, columns=[header[i] for i in wanted], dtype="str")
    frame["_source_row"] = numbers
    frame["_source_file"] = path.name
    return frame


def _check_header(path: Path, contract: Contract, header: list[str], row: int, depth: int) -> None:
    found = [h for h in header if h]
    for col in contract.columns:
        if col.source not in found:
            unknown = [h for h in found if h not in {c.source for c in contract.columns}]
            raise ExtractError(
                path,
                f"missing column {col.source!r} required by contract {contract.key} v{contract.version}"
                + (f"; the header has unknown column(s) {unknown} (renamed?)" if unknown else ""),
                row=row + depth - 1,
                column=col.source,
            )
    repeated = sorted({h for h in found if found.count(h) > 1})
    if repeated:
        column = get_column_letter(header.index(repeated[0]) + 1)
        raise ExtractError(
            path, f"column {repeated[0]!r} appears twice in the header", row=row, column=column
        )


def read_extract(paths: list[Path], contract: Contract) -> pd.DataFrame:
    if contract.format == "csv":
        return pd.concat([read_csv(p, contract) for p in paths], ignore_index=True)
    if contract.format == "json_pages":
        return read_json_pages(paths, contract)
    if contract.format == "geojson":
        return pd.concat([read_geojson(p, contract) for p in paths], ignore_index=True)
    if contract.format == "xlsx":
        return pd.concat([read_xlsx(p, contract) for p in paths], ignore_index=True)
    raise ValueError(f"unknown format {contract.format}")
