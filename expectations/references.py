"""Referential checks across entities and systems, derived from the contracts' ``Column.references``.

Semantics: a value must name a record its source system has **delivered** by the night being validated:
a key of any committed batch of the referenced entity on or before that night, its quarantined rows
included. A record quarantined for a fault of its own (a member with a wrong ID check character) still
exists in its system, so the rows naming it are not dangling; and for a snapshot entity every snapshot
counts, not only the latest, because facts keep naming records that have gone since (a case of a grid
merged away, a branch of a dissolved organization). An entity that references itself (an organization's
parent) is also checked against its own extract as delivered. Null values are left to the not-null rules.

The cost grows with the referenced snapshot's history (every night's key column is scanned); a ledger of the
keys seen so far, kept per entity, is the way out once that shows in the bench.

The batch's values are matched against the keys in DuckDB, straight from the accepted and quarantined Parquet
of the committed batches: only the values that name nothing come back to Python (a city's residents are
7.4M keys a night). For each referencing column the batch gets a helper column ``_unknown_<column>`` holding the value
where it names nothing (null elsewhere), which the suite expects to be null: the row is quarantined with
rule ``<column>:references`` and the Data Docs show the unknown codes themselves.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from expectations.committed import committed_files
from ingest.config import Paths
from ingest.contracts import Contract
from ingest.references import Reference, references

HELPER_PREFIX = "_unknown_"


def helper_column(reference: Reference) -> str:
    return f"{HELPER_PREFIX}{reference.column.name}"


def unknown_values(
    paths: Paths, reference: Reference, as_of: date, values: pd.Series, own_keys: pd.Series | None = None
) -> list:
    """The distinct ``values`` that name no key of the referenced entity's committed batches (accepted and
    quarantined rows) of the nights up to ``as_of``, nor one of ``own_keys``."""
    nights = committed_files(paths, reference.target, quarantined=True)
    files = [str(f) for day, day_files in nights.items() if day <= as_of for f in day_files]
    known, parameters = [], {}
    if files:
        known.append(f'select "{reference.target_column}" from read_parquet($files, union_by_name = true)')
        parameters["files"] = files
    with duckdb.connect() as con:
        con.register("given", pd.DataFrame({"value": values}))
        if own_keys is not None:
            con.register("own", pd.DataFrame({"key": own_keys}))
            known.append("select key from own")
        sql = " except ".join(["select distinct value from given where value is not null", *known])
        return [value for (value,) in con.execute(sql, parameters).fetchall()]


def unknown_references(
    contract: Contract, frame: pd.DataFrame, load_date: date, paths: Paths
) -> dict[str, pd.Series]:
    """Per referencing column of ``contract``, its helper column over ``frame`` (the batch being validated)."""
    helpers = {}
    for reference in references(contract):
        values = frame[reference.column.name]
        own_keys = frame[reference.target_column] if reference.is_self else None
        unknown = unknown_values(paths, reference, load_date, values, own_keys)
        helpers[helper_column(reference)] = values.where(values.isin(unknown))
    return helpers
