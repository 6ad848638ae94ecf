"""Read one entity's extract files into raw string records, by the contract's format.

Readers never guess: the CSV encoding is detected (charset-normalizer), JSON pages must be complete and in
sequence, and a file that breaks the contract raises ``ExtractError`` naming the file, row and rule.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from charset_normalizer import from_bytes

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
    _refuse_mixed(data, file)
    best = from_bytes(data).best()
    if best is None:
        raise ExtractError(file, "cannot detect the text encoding")
    # GB2312 and GBK are subsets of GB18030: decode with the superset so rare characters survive.
    return "gb18030" if best.encoding.lower() in {"gb2312", "gbk", "gb18030"} else best.encoding


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _refuse_mixed(data: bytes, file: Path) -> None:
    """A file that is not UTF-8 as a whole but has UTF-8 lines was glued from two exports: refuse it, since
    decoding it either way turns part of it into mojibake. (Chinese text in GBK is practically never valid
    UTF-8, so a non-ASCII line that decodes as UTF-8 is UTF-8.)"""
    lines = [(n, line) for n, line in enumerate(data.split(b"\n"), start=1) if not line.isascii()]
    utf8 = next((n for n, line in lines if _is_utf8(line)), None)
    if utf8 is not None:
        other = next(n for n, line in lines if not _is_utf8(line))
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
    data = path.read_bytes()
    if not data.strip():
        raise ExtractError(path, "file is empty")
    text = data.decode(detect_encoding(data, path))
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(text.partition("\n")[0], contract), strict=True
    )
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
    frame = pd.DataFrame(body, columns=[h.strip() for h in header], dtype=object)
    frame["_source_row"] = range(1, len(frame) + 1)
    frame["_source_file"] = path.name
    return frame


def _dig(document: dict, path: tuple[str, ...], file: Path):
    node = document
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise ExtractError(file, f"JSON has no {'.'.join(path)}")
        node = node[key]
    return node


def _load_json(path: Path, what: str = "JSON") -> dict:
    data = path.read_bytes()
    if not data.strip():
        raise ExtractError(path, "file is empty")
    try:
        return json.loads(data.decode(detect_encoding(data, path)))
    except json.JSONDecodeError as err:
        raise ExtractError(path, f"invalid {what} ({err.msg})", row=err.lineno) from None


def _source_text(value) -> str:
    """A JSON value as the source's text: missing is empty, numbers and booleans as Python writes them."""
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


def _source_column(values: list) -> pd.Series:
    """A JSON field of every record as the source's text (``_source_text``): text and missing values are
    converted by Arrow in one go; a field that also holds numbers or booleans goes value by value."""
    try:
        text = pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pd.Series([_source_text(v) for v in values], dtype=object)
    return pd.Series(pc.fill_null(text, "").to_numpy(zero_copy_only=False), dtype=object)


def read_json_pages(paths: list[Path], contract: Contract) -> pd.DataFrame:
    """Paged API responses: ``{"data": {"page": n, "pages": N, "total": T, "records": [...]}}``.

    Pages 1..N must all be present, each once, agreeing on N and T, and holding T records between them.
    """
    records, files, rows, seen_pages, declared, totals = [], [], [], [], {}, {}
    for path in paths:
        document = _load_json(path)
        if document.get("code", 0) not in (0, "0", 200):
            raise ExtractError(
                path, f"the API answered an error: code {document['code']}, {document.get('msg')!r}"
            )
        data = _dig(document, contract.json_records_path[:-1], path)
        page_records = _dig(document, contract.json_records_path, path)
        seen_pages.append(int(data.get("page", len(seen_pages) + 1)))
        declared[path.name] = int(data.get("pages", 1))
        if "total" in data:
            totals[path.name] = int(data["total"])
        records.extend(page_records)
        files.extend([path.name] * len(page_records))
        rows.extend(range(1, len(page_records) + 1))
    for name, counts in (("pages", declared), ("total", totals)):
        if len(set(counts.values())) > 1:
            raise ExtractError(paths[0].parent, f"the pages disagree on {name}: {counts}")
    pages = next(iter(declared.values()), 0)
    missing = sorted(set(range(1, pages + 1)) - set(seen_pages))
    if missing:
        raise ExtractError(paths[0].parent, f"JSON pages {missing} of {pages} are missing")
    if sorted(seen_pages) != list(range(1, pages + 1)):
        raise ExtractError(
            paths[0].parent, f"JSON pages {sorted(seen_pages)} do not run 1..{pages} once each"
        )
    if totals and len(records) != next(iter(totals.values())):
        raise ExtractError(
            paths[0].parent,
            f"the pages declare a total of {next(iter(totals.values()))} records but hold {len(records)}",
        )
    columns = list(dict.fromkeys(key for record in records for key in record))
    frame = pd.DataFrame(
        {c: _source_column([r.get(c) for r in records]) for c in columns}, index=pd.RangeIndex(len(records))
    )
    frame["_source_row"] = rows
    frame["_source_file"] = files
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
    return pd.DataFrame(rows, dtype=object)


def read_extract(paths: list[Path], contract: Contract) -> pd.DataFrame:
    if contract.format == "csv":
        return pd.concat([read_csv(p, contract) for p in paths], ignore_index=True)
    if contract.format == "json_pages":
        return read_json_pages(paths, contract)
    if contract.format == "geojson":
        return pd.concat([read_geojson(p, contract) for p in paths], ignore_index=True)
    raise ValueError(f"unknown format {contract.format}")
