"""Raw string records → typed rows under the contract, with the raw record kept beside the clean one."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from ingest import normalise
from ingest.contracts import Contract
from ingest.readers import ExtractError


@dataclass(frozen=True)
class Parsed:
    table: pa.Table
    extra_columns: tuple[str, ...]  # schema drift: columns the source sent that the contract does not know


def parse(raw: pd.DataFrame, contract: Contract, where: str) -> Parsed:
    lineage = {"_source_row", "_source_file"}
    present = [c for c in raw.columns if c not in lineage]
    missing = [c.source for c in contract.columns if c.source not in present]
    known = {c.source for c in contract.columns}
    extra = tuple(c for c in present if c not in known)
    if missing:
        raise ExtractError(
            where,
            f"missing column(s) {missing} required by contract {contract.key} v{contract.version}"
            + (f"; the extract has unknown column(s) {list(extra)} (renamed?)" if extra else ""),
        )

    typed = pd.DataFrame(
        {c.name: normalise.column(c, raw[c.source].astype(object)) for c in contract.columns}, index=raw.index
    )
    typed["_source_file"] = raw["_source_file"].astype(str)
    typed["_source_row"] = raw["_source_row"].astype("int64")
    typed["_raw"] = [
        json.dumps(dict(zip(present, values, strict=True)), ensure_ascii=False)
        for values in zip(*(raw[c].tolist() for c in present), strict=True)
    ]
    schema = contract.arrow_schema()
    lineage_fields = [f for f in schema if f.name in typed.columns]
    table = pa.Table.from_pandas(typed, schema=pa.schema(lineage_fields), preserve_index=False)
    return Parsed(table=table, extra_columns=extra)


# Types whose reading can fail; a text, name or code value is always kept as sent.
READ_TYPES = ("int", "float", "date", "timestamp", "phone")


def unreadable(frame: pd.DataFrame, contract: Contract) -> pd.Series:
    """Per landed row, the optional typed columns whose source value was present but could not be read
    (``不详`` as a date, ``21户`` as a count), comma-joined; null when there are none. Required columns need
    no such list: their not-null rule already catches an unreadable value."""
    columns = [c for c in contract.columns if c.type in READ_TYPES and not c.required]
    raw = frame["_raw"].map(json.loads)
    found = pd.Series([[] for _ in range(len(frame))], index=frame.index, dtype=object)
    for col in columns:
        sent = raw.map(lambda record, source=col.source: str(record.get(source) or "").strip() != "").astype(
            bool
        )
        for i in frame.index[sent & frame[col.name].isna()]:
            found[i].append(col.name)
    return found.map(lambda names: ",".join(names) or None)
