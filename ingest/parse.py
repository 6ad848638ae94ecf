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
    missing_columns: tuple[str, ...] = ()  # schema drift: optional contract columns the source did not send


def parse(raw: pd.DataFrame, contract: Contract, where: str) -> Parsed:
    """Type the raw records by the contract. Columns it does not know are kept in ``_raw`` and reported; an
    optional column the extract lacks is null and reported; a required one missing fails the extract, and
    so does a missing column beside an unknown one, which is how a renamed column looks."""
    lineage = {"_source_row", "_source_file"}
    present = [c for c in raw.columns if c not in lineage]
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

    blank = pd.Series("", index=raw.index, dtype=object)
    typed = pd.DataFrame(
        {
            c.name: normalise.column(c, raw[c.source].astype(object) if c.source in present else blank)
            for c in contract.columns
        },
        index=raw.index,
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
    return Parsed(table=table, extra_columns=extra, missing_columns=tuple(c.source for c in missing))


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
