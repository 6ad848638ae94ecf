"""Generate dbt's ``sources`` YAML from the entity contracts, so dbt never keeps its own copy.

``python -m warehouse.sources`` rewrites ``dbt_project/models/staging/<system>/_<system>__sources.yml``;
a test fails when the committed files differ from what the contracts say.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ingest.config import REPO_ROOT
from ingest.contracts import SYSTEMS, Contract, for_system

STAGING = REPO_ROOT / "dbt_project" / "models" / "staging"
SYSTEM_DESCRIPTIONS = {
    "party": "党建网 party-building network: 党员信息管理系统 exports (GBK CSV).",
    "gov": "政务网 government-affairs network: residents and 12345 hotline, served as paged JSON.",
    "city": "城管网格网 city-management grid network: grids (GeoJSON), workers, cases and steps (CSV).",
}
HEADER = "# Generated from ingest/contracts.py by `python -m warehouse.sources`; do not edit by hand.\n"


def _table(contract: Contract) -> dict:
    location = (
        'read_parquet(\'{{ env_var("GRIDFUSION_HOME") }}/accepted/'
        f"{contract.system}/{contract.entity}/**/*.parquet', union_by_name = true)"
    )
    return {
        "name": contract.entity,
        "description": contract.description,
        "meta": {
            "external_location": location,
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
    return HEADER + yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)


def path_for(system: str) -> Path:
    return STAGING / system / f"_{system}__sources.yml"


def main() -> None:
    for system in SYSTEMS:
        path_for(system).write_text(render(system))
        print(f"wrote {path_for(system).relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
