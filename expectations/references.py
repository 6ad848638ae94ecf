"""Referential checks across entities and systems, derived from the contracts' ``Column.references``.

Semantics: a value must exist among the referenced entity's **accepted** keys as of the night being
validated: for a snapshot entity its latest accepted snapshot on or before that night, for an incremental
one all its batches accepted so far (so a case may name a grid that was delivered on an earlier night). An
entity that references itself (an organization's parent) is checked against its own extract as delivered,
plus, if incremental, what it had accepted before. Null values are left to the not-null rules.

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


def accepted_keys(paths: Paths, reference: Reference, as_of: date) -> pd.Series:
    """The referenced entity's distinct keys in its accepted data as of the night ``as_of``; for a snapshot
    entity referencing itself none (its own extract is the reference)."""
    target = reference.target
    if target.extract == "snapshot" and reference.is_self:
        return pd.Series([], dtype=object)
    nights = {day: files for day, files in committed_files(paths, target).items() if day <= as_of}
    if target.extract == "snapshot" and nights:
        nights = dict([max(nights.items())])
    files = [str(f) for day_files in nights.values() for f in day_files]
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
        keys = accepted_keys(paths, reference, load_date)
        if reference.is_self:
            keys = pd.concat([keys, frame[reference.target_column]])
        values = frame[reference.column.name]
        helpers[helper_column(reference)] = values.where(values.notna() & ~values.isin(keys))
    return helpers
