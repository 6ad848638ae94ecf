"""Generate dbt's ``sources`` YAML from the entity contracts, so dbt never keeps its own copy.

``python -m warehouse.sources`` rewrites ``dbt_project/models/staging/<system>/_<system>__sources.yml``
(each entity's accepted rows) and ``dbt_project/models/ops/_quarantine__sources.yml`` (each entity's
quarantined rows); a test fails when the committed files differ from what the contracts say.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ingest.config import REPO_ROOT
from ingest.contracts import CONTRACTS, LINEAGE_SCHEMA, SYSTEMS, Contract, for_system

STAGING = REPO_ROOT / "dbt_project" / "models" / "staging"
QUARANTINE_SOURCES = REPO_ROOT / "dbt_project" / "models" / "ops" / "_quarantine__sources.yml"
SYSTEM_DESCRIPTIONS = {
    "party": "党建网 party-building network: 党员信息管理系统 exports (GBK CSV).",
    "gov": "政务网 government-affairs network: residents and 12345 hotline, served as paged JSON.",
    "city": "城管网格网 city-management grid network: grids (GeoJSON), workers, cases and steps (CSV).",
}
HEADER = "# Generated from ingest/contracts.py by `python -m warehouse.sources`; do not edit by hand.\n"


def _location(folder: str, contract: Contract) -> str:
    return (
        f'read_parquet(\'{{{{ env_var("GRIDFUSION_HOME") }}}}/{folder}/'
        f"{contract.system}/{contract.entity}/**/*.parquet', union_by_name = true)"
    )


def _table(contract: Contract) -> dict:
    return {
        "name": contract.entity,
        "description": contract.description,
        "meta": {
            "external_location": _location("accepted", contract),
            "contract_version": contract.version,
            "extract": contract.extract,
            "primary_key": list(contract.primary_key),
        },
        "loaded_at_field": "_loaded_at",
        "columns": [
            {"name": c.name, "description": c.description or c.name, "meta": {"source_column": c.source}}
            for c in contract.columns
        ],
    }


def render(system: str) -> str:
    document = {
        "version": 2,
        "sources": [
            {
                "name": system,
                "description": SYSTEM_DESCRIPTIONS[system],
                "freshness": {
                    "warn_after": {"count": 26, "period": "hour"},
                    "error_after": {"count": 50, "period": "hour"},
                },
                "tables": [_table(c) for c in for_system(system)],
            }
        ],
    }
    return _dump(document)


def _quarantine_table(contract: Contract) -> dict:
    return {
        "name": f"{contract.system}__{contract.entity}",
        "description": f"{contract.key} 的隔离行 quarantined rows: {contract.description}",
        "meta": {
            "external_location": _location("quarantine", contract),
            "source_entity": contract.key,
            "primary_key": list(contract.primary_key),
        },
    }


def render_quarantine() -> str:
    document = {
        "version": 2,
        "sources": [
            {
                "name": "quarantine",
                "description": (
                    "隔离区 quarantine: rows of every source entity that a warning rule caught, with the contract's "
                    f"columns, lineage ({', '.join(LINEAGE_SCHEMA.names)}), _rules, the comma-joined rules "
                    "that caught the row, and _readmitted_by, the batch that loaded it after all (null while "
                    "held). Holds personal data; internal only."
                ),
                "tables": [_quarantine_table(c) for c in CONTRACTS],
            }
        ],
    }
    return _dump(document)


def _dump(document: dict) -> str:
    return HEADER + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


def path_for(system: str) -> Path:
    return STAGING / system / f"_{system}__sources.yml"


def generated() -> dict[Path, str]:
    """Every generated sources file and what it must hold."""
    return {
        **{path_for(system): render(system) for system in SYSTEMS},
        QUARANTINE_SOURCES: render_quarantine(),
    }


def main() -> None:
    for path, text in generated().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
