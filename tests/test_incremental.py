"""Incremental staging extends last night's warehouse and ends where a rebuild from every batch ends: after
late updates, a batch that replaces an earlier one of the same day, and with models the published warehouse
was not built from."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pytest

from tests.conftest import DAYS, START, table_fingerprints
from warehouse.build import MODEL_VERSION_TABLE, model_version
from warehouse.night import run_night

LAST = START + timedelta(days=DAYS - 1)
WITHDRAWN_LINES = 5  # case rows the source takes back when it delivers the last day's extract again


def _build_record(home) -> dict:
    return json.loads((home.reports / "build" / f"{LAST}.json").read_text())


def _cases(home) -> set[str]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return {r[0] for r in con.sql("select case_no from staging.stg_city__cases").fetchall()}


@pytest.fixture(scope="module")
def nights(tmp_path_factory, tiny_drops):
    """Every night in order, then the last day's cases delivered again without their last rows (a new batch
    replacing the first), built incrementally, then the same night rebuilt with ``full_refresh``."""
    import shutil

    from ingest.config import Paths

    root = tmp_path_factory.mktemp("incremental")
    drops = root / "drops"
    shutil.copytree(tiny_drops, drops)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRIDFUSION_HOME", str(root / "home"))
        env.setenv("GRIDFUSION_DROPS", str(drops))
        home = Paths.from_env()
        for n in range(DAYS):
            run_night(START + timedelta(days=n), home)
        extract = drops / "city" / LAST.isoformat() / "cases.csv"
        lines = extract.read_bytes().splitlines(keepends=True)
        withdrawn = {line.split(b",", 1)[0].decode() for line in lines[-WITHDRAWN_LINES:]}
        before_replacement = _cases(home)
        extract.write_bytes(b"".join(lines[:-WITHDRAWN_LINES]))
        run_night(LAST, home)
        incremental = table_fingerprints(home.warehouse)
        replaced = _build_record(home), _cases(home)
        run_night(LAST, home, full_refresh=True)
        rebuilt = table_fingerprints(home.warehouse), _build_record(home)
        with duckdb.connect(str(home.warehouse)) as con:  # as if built by an earlier release of the models
            con.execute(f"update {MODEL_VERSION_TABLE} set version = 'earlier'")
        run_night(LAST, home)
        yield {
            "home": home,
            "withdrawn": withdrawn,
            "before_replacement": before_replacement,
            "incremental": incremental,
            "replaced": replaced,
            "rebuilt": rebuilt,
            "after_model_change": (table_fingerprints(home.warehouse), _build_record(home)),
        }


def test_the_replacing_batch_builds_incrementally_and_takes_back_its_rows(nights):
    record, cases = nights["replaced"]
    assert not record["full_refresh"] and not record["tests_failed"]
    new_on_last_day = {c for c in nights["withdrawn"] if c.startswith(f"AJ{LAST:%Y%m%d}")}
    assert new_on_last_day, "the withdrawn rows should include cases first reported on the last day"
    assert new_on_last_day <= nights["before_replacement"]
    assert not new_on_last_day & cases  # only the replaced batch had them


def test_an_incremental_night_equals_a_rebuild_from_every_batch(nights):
    fingerprints, record = nights["rebuilt"]
    assert record["full_refresh"]
    differing = {t for t in fingerprints if fingerprints[t] != nights["incremental"].get(t)}
    assert not differing and fingerprints.keys() == nights["incremental"].keys()


def test_a_warehouse_built_from_other_models_is_rebuilt_and_records_the_models_it_has(nights):
    fingerprints, record = nights["after_model_change"]
    assert record["full_refresh"]
    assert fingerprints == nights["incremental"]
    with duckdb.connect(str(nights["home"].warehouse), read_only=True) as con:
        assert con.execute(f"select version from {MODEL_VERSION_TABLE}").fetchone()[0] == model_version()
