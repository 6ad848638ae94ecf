"""Referential checks across entities and systems, derived from the contracts' ``Column.references``.

Semantics: a value must name a record its source system has **delivered** by the night being validated:
a key of any committed batch of the referenced entity on or before that night, its quarantined rows
included. A record quarantined for a fault of its own (a member with a wrong ID check character) still
exists in its system, so the rows naming it are not dangling; and for a snapshot entity every snapshot
counts, not only the latest, because facts keep naming records that have gone since (a case of a grid
merged away, a branch of a dissolved organization). An entity that references itself (an organization's
parent) is also checked against its own extract as delivered. Null values are left to the not-null rules.

The cost grows with the referenced snapshot's history (every night's key column is read); a ledger of the
keys seen so far, kept per entity, is the way out once that shows in the bench.

The keys are read with DuckDB from the accepted Parquet of the committed batches, never row by row in
Python. For each referencing column the batch gets a helper column ``_unknown_<column>`` holding the value
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


def delivered_keys(paths: Paths, reference: Reference, as_of: date) -> pd.Series:
    """The referenced entity's distinct keys in its committed batches (accepted and quarantined rows) of the
    nights up to ``as_of``."""
    target = reference.target
    nights = committed_files(paths, target, quarantined=True)
    files = [str(f) for day, day_files in nights.items() if day <= as_of for f in day_files]
    if not files:
        return pd.Series([], dtype=object)
    column = reference.target_column
    query = (
        f'select distinct "{column}" from read_parquet(?, union_by_name = true) where "{column}" is not null'
    )
    with duckdb.connect() as con:
        return con.execute(query, [files]).df()[column]


def unknown_references(
    contract: Contract, frame: pd.DataFrame, load_date: date, paths: Paths
) -> dict[str, pd.Series]:
    """Per referencing column of ``contract``, its helper column over ``frame`` (the batch being validated)."""
    helpers = {}
    for reference in references(contract):
        keys = delivered_keys(paths, reference, load_date)
        if reference.is_self:
            keys = pd.concat([keys, frame[reference.target_column]])
        values = frame[reference.column.name]
        helpers[helper_column(reference)] = values.where(values.notna() & ~values.isin(keys))
    return helpers
