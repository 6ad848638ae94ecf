"""The order of validation that the contracts' references imply, and what a dangling reference costs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest.contracts import CONTRACTS, get
from ingest.references import references, upstream, validation_order


def test_every_referenced_entity_is_validated_before_those_referencing_it():
    order = [c.key for c in validation_order()]
    assert sorted(order) == sorted(c.key for c in CONTRACTS)
    for contract in CONTRACTS:
        for key in upstream(contract):
            assert order.index(key) < order.index(contract.key), (key, contract.key)
    assert order.index("city.grids") < order.index("party.organizations") < order.index("party.members")


def test_an_entity_referencing_itself_is_no_dependency():
    organizations = get("party", "organizations")
    assert {r.column.name: r.is_self for r in references(organizations)} == {
        "parent_org_code": True,
        "grid_code": False,
    }
    assert upstream(organizations) == ("city.grids",)


def test_a_cycle_of_references_is_refused():
    grids, cases = get("city", "grids"), get("city", "cases")
    looped = replace(
        grids,
        columns=tuple(
            replace(c, references="city.cases.case_no") if c.name == "community_code" else c
            for c in grids.columns
        ),
    )
    with pytest.raises(ValueError, match="cycle"):
        validation_order((looped, cases))


def test_a_reference_to_nothing_is_refused():
    members = get("party", "members")
    broken = replace(
        members,
        columns=tuple(
            replace(c, references="party.branches.org_code") if c.name == "org_code" else c
            for c in members.columns
        ),
    )
    with pytest.raises(ValueError, match="party.branches.org_code"):
        references(broken)
