"""One definition of each entity: dbt's sources and staging are derived from (and checked against) contracts."""

from __future__ import annotations

from ingest.config import REPO_ROOT
from ingest.contracts import CONTRACTS, SYSTEMS
from warehouse.sources import generated


def test_dbt_sources_are_generated_from_the_contracts():
    files = generated()
    assert len(files) == len(SYSTEMS) + 1  # accepted rows per system, quarantined rows of all entities
    for path, text in files.items():
        assert path.read_text() == text, (
            f"{path} differs from ingest/contracts.py; run `python -m warehouse.sources`"
        )


def test_every_source_entity_has_one_staging_model():
    staging = REPO_ROOT / "dbt_project" / "models" / "staging"
    models = {p.stem for p in staging.rglob("stg_*.sql")}
    assert models == {f"stg_{c.system}__{c.entity}" for c in CONTRACTS}


def test_every_model_is_documented():
    models_dir = REPO_ROOT / "dbt_project" / "models"
    documented = "".join(p.read_text() for p in models_dir.rglob("*.yml"))
    for sql in models_dir.rglob("*.sql"):
        assert f"name: {sql.stem}\n" in documented, f"{sql.stem} has no YAML documentation"
