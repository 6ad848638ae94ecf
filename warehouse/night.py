"""The steps of one night, shared by the Airflow DAG and the ``gridfusion`` command line.

The DAG runs them as separate tasks (land and validate per entity, then build, publish, summarise);
``run_night`` runs the same functions in order in one process, for debugging and backfills without a
scheduler. A source that fails does not stop the others from landing, unless ``strict``.

Under a scheduler each task is a process of its own, so each step imports only what it needs: Great
Expectations and dbt take seconds to import, and landing an extract needs neither.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from datetime import date
from pathlib import Path

from ingest import manifest
from ingest.config import Paths
from ingest.connectors import postgres_source
from ingest.connectors.gov_api import fetch_gov_extracts
from ingest.connectors.paged_api import FetchError
from ingest.contracts import CONTRACTS, Contract
from ingest.landing import checksum, land, record_failure
from ingest.references import validation_order
from warehouse.file_lock import DatabaseLocked
from warehouse.summary import record, summarise

log = logging.getLogger(__name__)


def unloaded_entities(load_date: date, paths: Paths) -> list[str]:
    """Source entities with no accepted batch for the night (missing, failed to land, or rejected)."""
    return [
        c.key
        for c in CONTRACTS
        if (batch := manifest.latest(paths.manifest, c.system, c.entity, load_date)) is None
        or batch.status not in manifest.LOADED_STATUSES
    ]


def land_entity(contract: Contract, load_date: date, paths: Paths):
    """Land an entity's extract, first fetched from the gov API or the city DB when one is configured. The
    gov system's service-item list is an XLSX export dropped as a file, never served by the API."""
    if (
        contract.system == "gov"
        and contract.format == "json_pages"
        and os.environ.get("GRIDFUSION_GOV_API_URL")
    ):
        try:
            fetch_gov_extracts(load_date, entities=[contract.entity], paths=paths)
        except FetchError as error:
            record_failure(contract, load_date, [], checksum([]), f"{contract.key}: {error}", paths)
            raise
    if contract.system == "city" and os.environ.get(postgres_source.DSN_ENV):
        extracted = postgres_source.extract_city_entity(contract, load_date, paths)
        landed = land(contract, load_date, paths, source_types=extracted.source_types)
        extracted.advance_watermark(paths)  # only once the batch has landed
        return landed
    return land(contract, load_date, paths)


def load_entity(contract: Contract, load_date: date, paths: Paths):
    from expectations.validate import validate

    land_entity(contract, load_date, paths)
    return validate(contract, load_date, paths)


def load_night(load_date: date, paths: Paths, contracts: tuple[Contract, ...] = CONTRACTS) -> dict[str, str]:
    """Land and validate each entity, every referenced entity before those referencing it; one source's
    failure does not stop the others. Returns the failures."""
    failures = {}
    for contract in validation_order(contracts):
        try:
            load_entity(contract, load_date, paths)
        except Exception as error:  # noqa: BLE001 — one source's failure must not stop the others
            log.error("%s on %s: %s", contract.key, load_date, error)
            failures[contract.key] = str(error)
    return failures


def build(load_date: date, paths: Paths, full_refresh: bool = False) -> Path:
    from warehouse import build as warehouse_build

    try:
        result = warehouse_build.build(load_date, paths, full_refresh=full_refresh)
    except warehouse_build.WarehouseBuildFailed as error:
        record(paths, "build", load_date, {"error": str(error)})  # so the night's summary says why
        raise
    record(paths, "build", load_date, asdict(result))
    return result.candidate


def publish(candidate: Path, load_date: date, paths: Paths) -> Path:
    from warehouse import publish as warehouse_publish

    published = warehouse_publish.publish(candidate, load_date, paths)
    record(paths, "publish", load_date, asdict(published))
    return published.warehouse


def close_night(load_date: date, paths: Paths) -> dict:
    """Write the night's run summary and quality report; returns the run summary."""
    from expectations.report import write_report

    summary = summarise(load_date, paths)
    write_report(load_date, paths)
    return summary


def run_night(
    load_date: date, paths: Paths | None = None, strict: bool = False, full_refresh: bool = False
) -> dict:
    """Land, validate, build, publish and summarise one night; returns the run summary. ``full_refresh``
    rebuilds the incremental models from every accepted batch instead of extending last night's."""
    from warehouse import build as warehouse_build

    paths = paths or Paths.from_env()
    load_night(load_date, paths)
    if not (strict and unloaded_entities(load_date, paths)):
        try:
            publish(build(load_date, paths, full_refresh), load_date, paths)
        except (warehouse_build.WarehouseBuildFailed, DatabaseLocked) as error:
            log.error("%s", error)
    return close_night(load_date, paths)
