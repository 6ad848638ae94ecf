"""Great Expectations Data Docs kept by night, plus a page listing the nights.

GX's own ``local_site`` would show every run ever made, and re-rendering it after every validation cost
more than validating. A reviewer asking what one night looked like wants that night alone, unchanged by
later nights: so each night gets its own site under ``reports/data_docs/<date>/``, rendered from the
stored validation results of that night's batches (a validation's run name is its batch id). Only that
night's pages are rendered, so the cost of a night does not grow with the history. Personal values listed
as unexpected (an ID number with a wrong check character) are masked in the stored results first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from great_expectations.render.renderer.site_builder import SiteBuilder

from expectations import pages
from expectations.masking import mask_validation
from expectations.validate import data_docs_index, gx_context, gx_project_lock
from ingest import manifest
from ingest.config import Paths
from ingest.contracts import CONTRACTS, get
from ingest.landing import write_text_atomic


@dataclass(frozen=True)
class NightDocs:
    index: Path
    validation_pages: dict[str, Path]  # by batch id


def site_for(load_date: date, paths: Paths) -> Path:
    return paths.data_docs / load_date.isoformat()


def build_night(load_date: date, paths: Paths | None = None) -> NightDocs:
    """(Re)build the night's site from scratch, then the index of nights."""
    paths = paths or Paths.from_env()
    batch_ids = [
        b.batch_id for c in CONTRACTS for b in manifest.batches(paths.manifest, c.system, c.entity, load_date)
    ]
    site = site_for(load_date, paths)
    with gx_project_lock(paths):
        mask_stored_results(paths, set(batch_ids))
        builder = SiteBuilder(
            data_context=gx_context(paths.gx_root),
            store_backend={"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
            site_name=f"gridfusion {load_date.isoformat()}",
            show_how_to_buttons=False,
            site_section_builders={
                "validations": {
                    "run_name_filter": {"matches_regex": f"^(?:{'|'.join(map(re.escape, batch_ids))})$"}
                },
                "profiling": "False",
            },
        )
        builder.clean_site()
        _, links = builder.build()
    write_index(paths)
    return NightDocs(
        index=site / "index.html",
        validation_pages={
            link["run_name"]: site / link["filepath"] for link in links.get("validations_links", [])
        },
    )


def mask_stored_results(paths: Paths, batch_ids: set[str]) -> None:
    """Mask the personal values the stored results of these batches list as unexpected, before any page is
    rendered from them (see ``expectations.masking``); the quarantine keeps the raw values."""
    store = gx_context(paths.gx_root).validation_results_store
    for key in store.list_keys():
        if key.run_id.run_name in batch_ids:
            validation = store.get(key)
            if mask_validation(get(*key.expectation_suite_identifier.name.split(".")), validation):
                store.set(key, validation)


def write_index(paths: Paths) -> Path:
    nights = sorted((p.parent.name for p in paths.data_docs.glob("*/index.html")), reverse=True)
    target = data_docs_index(paths)
    write_text_atomic(pages.render("data_docs_index.html.j2", nights=nights), target)
    return target
