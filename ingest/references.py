"""What the contracts' ``Column.references`` imply: which entity must be validated before which.

A column that references ``system.entity.column`` is checked against the keys that entity has delivered by
the night, so the referenced entity is validated first, across systems too (a case's grid comes from the city
system, a grid branch's from the party system). The order is derived here, once, for the nightly DAG and
``gridfusion run-night`` alike; a new entity with a ``references`` gets its place without further wiring.
"""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from ingest.contracts import BY_KEY, CONTRACTS, Column, Contract


@dataclass(frozen=True)
class Reference:
    """A column of ``contract`` whose values must exist in ``target``'s ``target_column``."""

    contract: Contract
    column: Column
    target: Contract
    target_column: str

    @property
    def rule(self) -> str:
        return f"{self.column.name}:references"

    @property
    def is_self(self) -> bool:
        """An entity referencing itself (an organization's parent), checked within its own extract."""
        return self.target.key == self.contract.key


def references(contract: Contract) -> tuple[Reference, ...]:
    found = []
    for column in contract.columns:
        if not column.references:
            continue
        system, entity, target_column = column.references.split(".")
        target = BY_KEY.get(f"{system}.{entity}")
        if target is None or target_column not in {c.name for c in target.columns}:
            raise ValueError(
                f"{contract.key}.{column.name} references {column.references}, which no contract has"
            )
        found.append(Reference(contract, column, target, target_column))
    return tuple(found)


def upstream(contract: Contract) -> tuple[str, ...]:
    """The other entities (``system.entity``) whose delivered keys ``contract``'s rows are checked against."""
    return tuple(dict.fromkeys(r.target.key for r in references(contract) if not r.is_self))


def validation_order(contracts: tuple[Contract, ...] = CONTRACTS) -> tuple[Contract, ...]:
    """``contracts`` with every referenced entity before the entities referencing it; otherwise as declared."""
    by_key = {c.key: c for c in contracts}
    sorter = TopologicalSorter({c.key: [k for k in upstream(c) if k in by_key] for c in contracts})
    try:
        sorter.prepare()
    except CycleError as cycle:
        raise ValueError(f"contracts reference each other in a cycle: {cycle.args[1]}") from None
    ordered: list[str] = []
    while sorter.is_active():
        ready = sorter.get_ready()
        ordered += sorted(ready, key=list(by_key).index)  # declaration order among equals: stable
        sorter.done(*ready)
    return tuple(by_key[k] for k in ordered)
