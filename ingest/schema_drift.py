"""Schema drift of a source: how the columns an extract arrives with differ from its contract and from
the entity's last batch.

Columns the contract does not know and optional columns the source stopped sending are found while
parsing (``ingest.parse``). Type changes need a typed source: the city DB reports each column's database
type, JSON pages each key's JSON type; a column whose type differs from the one recorded with the entity's
latest earlier batch is a type change. CSV and GeoJSON carry no types; an unreadable value there is caught
row by row by the ``parsable`` rule.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ingest import manifest
from ingest.contracts import Contract


def previous_types(root: Path, contract: Contract, load_date: date) -> dict[str, str]:
    """The source types recorded with the entity's latest batch of an earlier day that recorded any."""
    earlier = [
        b
        for b in manifest.batches(root, contract.system, contract.entity)
        if b.load_date < load_date.isoformat() and b.status != "failed" and b.source_types
    ]
    return earlier[-1].source_types if earlier else {}


def type_changes(before: dict[str, str], now: dict[str, str]) -> dict[str, str]:
    """Columns sent both times whose type differs: column → ``"old → new"``."""
    return {name: f"{before[name]} → {kind}" for name, kind in now.items() if before.get(name, kind) != kind}


def summary(batch: manifest.Batch | None) -> dict:
    """The schema drift line of a batch, as the quality summary shows it."""
    if batch is None:
        return {"added": [], "missing": [], "type_changes": {}}
    return {
        "added": batch.extra_columns,
        "missing": batch.missing_columns,
        "type_changes": batch.type_changes,
    }
