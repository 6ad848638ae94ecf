"""Column-at-a-time text for the extracts: CSV lines and JSON records built with Arrow compute, not per row.

The bytes are those Python's ``csv.writer`` (QUOTE_MINIMAL) and ``json.dumps(..., ensure_ascii=False)`` write
for the same values, so a source's format does not change with the size of the city.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def strings(values) -> pa.Array:
    """Any column (pandas, numpy, Arrow) as one contiguous Arrow large_string array."""
    array = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array.cast(pa.large_string())


def join_with(separator: str, *pieces) -> pa.Array:
    """Element-wise join of columns and constant strings, ``separator`` between them."""
    parts = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else strings(p) for p in pieces]
    return pc.binary_join_element_wise(*parts, pa.scalar(separator, pa.large_string()))


def concat(*pieces) -> pa.Array:
    """Element-wise concatenation of columns and constant strings."""
    return join_with("", *pieces)


def joined(values: pa.Array, separator: str) -> pa.Buffer:
    """All values of a column, with ``separator`` between them, as one UTF-8 buffer."""
    values = strings(values)
    one_list = pa.LargeListArray.from_arrays(pa.array([0, len(values)], pa.int64()), values)
    return pc.binary_join(one_list, pa.scalar(separator, pa.large_string()))[0].as_buffer() or pa.py_buffer(
        b""
    )


def csv_field(values, terminator: str) -> pa.Array:
    """A column as CSV fields, quoted only where ``csv.QUOTE_MINIMAL`` quotes: around a delimiter, a quote or
    a character of the line terminator."""
    values = strings(values)
    special = pc.match_substring_regex(
        values, '[,"' + terminator.replace("\r", "\\r").replace("\n", "\\n") + "]"
    )
    if not pc.any(special).as_py():
        return values
    quoted = concat('"', pc.replace_substring(values, '"', '""'), '"')
    return pc.if_else(special, quoted, values)


def csv_lines(columns: Sequence, terminator: str) -> pa.Array:
    """One CSV line per row, each ending in ``terminator``."""
    fields = [csv_field(c, terminator) for c in columns]
    return concat(join_with(",", *fields), terminator)


_JSON_CONTROL = {chr(c): f"\\u{c:04x}" for c in range(32)} | {
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def json_string(values) -> pa.Array:
    """A column as JSON string literals, escaped as ``json.dumps`` escapes them; nulls become ``null``."""
    values = strings(values)
    if pc.any(pc.match_substring_regex(values, '[\\\\"\x00-\x1f]')).as_py():
        values = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
        for char, escaped in _JSON_CONTROL.items():
            values = pc.replace_substring(values, char, escaped)
    return pc.fill_null(concat('"', values, '"'), "null")


def json_number(values) -> pa.Array:
    return pc.fill_null(strings(pc.cast(values, pa.int64())), "null")


def json_records(fields: dict[str, pa.Array]) -> pa.Array:
    """One JSON object per row from already-encoded values (see ``json_string`` and ``json_number``)."""
    members = [concat(f'"{name}": ', value) for name, value in fields.items()]
    return concat("{", join_with(", ", *members), "}")


def write_csv(
    path: Path,
    header: list[str],
    chunks: Iterable[pa.Array],
    encoding: str,
    terminator: str,
    bom: bool = False,
) -> int:
    """Write a header and then lines from ``csv_lines`` chunk by chunk; returns the rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("wb") as out:
        head = ",".join(csv_field(pa.array(header), terminator).to_pylist()) + terminator
        out.write((b"\xef\xbb\xbf" if bom else b"") + head.encode(encoding))
        for lines in chunks:
            rows += len(lines)
            data = joined(lines, "")
            out.write(data if encoding == "utf-8" else data.to_pybytes().decode("utf-8").encode(encoding))
    return rows


def padded(numbers, width: int, prefix: str = "") -> pa.Array:
    """Integers as zero-padded text (at least ``width`` digits), after ``prefix``."""
    return concat(prefix, pc.utf8_lpad(strings(pa.array(np.asarray(numbers))), width, "0"))


def day_text(times) -> pa.Array:
    """``YYYYMMDD`` of each time, as case and order numbers carry it."""
    return strings(pc.strftime(pa.array(np.asarray(times, dtype="datetime64[s]")), "%Y%m%d"))


def as_str(values) -> pd.Series:
    """An Arrow string column as a pandas ``str`` column, without a round trip through Python objects."""
    return pd.Series(strings(values), dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def pick(mask, yes, no) -> pa.Array:
    """Per row, ``yes`` where ``mask`` holds, else ``no`` (columns or constant strings)."""
    choice = [pa.scalar(v, pa.large_string()) if isinstance(v, str) else strings(v) for v in (yes, no)]
    return pc.if_else(pa.array(np.asarray(mask, dtype=bool)), *choice)
