"""The nightly steps without Airflow: backfill, idempotent rerun, a late file picked up by a rerun."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from typer.testing import CliRunner

from ingest import manifest
from tests.conftest import DAYS, START, table_fingerprints
from warehouse.cli import app

runner = CliRunner()


def _invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


LAST = (START + timedelta(days=DAYS - 1)).isoformat()


def test_backfill_builds_the_same_warehouse_as_the_dag(home, nightly_run):
    _invoke("backfill", "--from", START.isoformat(), "--to", LAST)
    # ops records when and how long each batch took: it differs between any two runs by design
    ops = ("ops",)
    assert table_fingerprints(home.warehouse, ops) == table_fingerprints(nightly_run.paths.warehouse, ops)


def test_rerunning_a_night_changes_nothing(home):
    _invoke("backfill", "--from", "2026-11-01", "--to", "2026-11-02")
    before = table_fingerprints(home.warehouse)
    batches = len(manifest.batches(home.manifest, "city", "cases"))
    _invoke("run-night", "--date", "2026-11-02")
    assert table_fingerprints(home.warehouse) == before
    assert len(manifest.batches(home.manifest, "city", "cases")) == batches


def test_a_late_file_for_an_old_day_is_picked_up_by_rerunning_that_day(home, own_drops):
    _invoke("backfill", "--from", "2026-11-01", "--to", "2026-11-02")
    cases_csv = own_drops / "city" / "2026-11-01" / "cases.csv"
    cases = pd.read_csv(cases_csv, dtype=str, keep_default_na=False)
    late = cases.iloc[[0]].assign(case_no="AJ20261101999999")  # a case the source forgot to send that night
    pd.concat([cases, late]).to_csv(cases_csv, index=False)

    _invoke("run-night", "--date", "2026-11-01")
    import duckdb

    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        found = con.sql("select count(*) from marts.fct_case where case_key = 'AJ20261101999999'").fetchall()[
            0
        ][0]
    assert found == 1
    day1 = manifest.batches(home.manifest, "city", "cases", date(2026, 11, 1))
    assert [b.status for b in day1] == ["accepted", "accepted"]  # the late batch replaced the first one
    accepted = list((home.accepted / "city" / "cases" / "load_date=2026-11-01").glob("*.parquet"))
    assert [p.stem for p in accepted] == [day1[-1].batch_id]


def test_status_shows_the_latest_night(home):
    _invoke("run-night", "--date", "2026-11-01")
    output = _invoke("status").output
    assert "gridfusion night of 2026-11-01" in output and "party.members" in output


def test_bad_dates_are_refused_clearly(home):
    result = runner.invoke(app, ["backfill", "--from", "2026-11-02", "--to", "2026-11-01"])
    assert result.exit_code != 0 and "before --from" in result.output
