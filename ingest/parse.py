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
    if missing:
        raise ExtractError(
            where, f"missing column(s) {missing} required by contract {contract.key} v{contract.version}"
        )
    known = {c.source for c in contract.columns}
    extra = tuple(c for c in present if c not in known)

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
