"""The whole night, for real: two simulated days through the Airflow DAG, checked against the truth."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from expectations.validate import data_docs_index
from ingest import manifest
from ingest.contracts import CONTRACTS
from tests.conftest import START

pytestmark = pytest.mark.usefixtures("nightly_run")


def scalar(con, sql: str):
    return con.sql(sql).fetchall()[0][0]


@pytest.fixture(scope="module")
def warehouse(nightly_run):
    with duckdb.connect(str(nightly_run.paths.warehouse), read_only=True) as con:
        yield con


def test_every_night_succeeded(nightly_run):
    assert nightly_run.exit_codes and all(code == 0 for code in nightly_run.exit_codes.values()), (
        nightly_run.log.read_text()[-5000:]
    )


def test_rerunning_a_night_is_idempotent(nightly_run):
    assert nightly_run.rerun_exit_code == 0
    assert nightly_run.fingerprints_after_rerun == nightly_run.fingerprints_before_rerun


def test_a_failing_source_does_not_stop_the_others(broken_source_night):
    paths, codes, log = broken_source_night
    assert codes[START] != 0  # the run is marked failed: nothing passes silently
    summary = json.loads((paths.reports / "run_summary" / f"{START}.json").read_text())
    status = {e["source_entity"]: e["status"] for e in summary["entities"]}
    assert status.pop("city.cases") == "missing"  # no extract delivered
    assert set(status.values()) == {"accepted"}
    assert summary["published"]  # built and published from what was accepted
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        origins = {r[0] for r in con.sql("select distinct origin_system from marts.fct_case").fetchall()}
    assert origins == {"gov"}  # 12345 orders loaded; the grid cases are what is missing


def test_strict_mode_waits_for_every_source(broken_source_strict_night):
    paths, codes, log = broken_source_strict_night
    assert codes[START] != 0
    summary = json.loads((paths.reports / "run_summary" / f"{START}.json").read_text())
    assert not summary["published"] and not paths.warehouse.exists()
    assert "strict mode: not building" in log.read_text()


def test_row_accounting_holds_for_every_batch(nightly_run, truth):
    """Rows read = loaded + quarantined per batch, and the quarantined rows are exactly the dirty ones."""
    batches = [b for c in CONTRACTS for b in manifest.batches(nightly_run.paths.manifest, c.system, c.entity)]
    assert {b.status for b in batches} <= {"accepted", "duplicate"}
    for b in batches:
        assert b.rows_read == b.rows_loaded + b.rows_quarantined, b
    quarantined = {(b.entity, b.load_date): b.rows_quarantined for b in batches if b.status == "accepted"}
    dirty_members = truth.table("person_records").query("entity == 'members' and dirty_rule != ''")
    # the party snapshot repeats each member every night, so each dirty member is quarantined every night
    assert (
        quarantined[("members", "2026-11-01")] == quarantined[("members", "2026-11-02")] == len(dirty_members)
    )


def test_quarantine_holds_exactly_the_dirty_records_with_their_rule(nightly_run, truth):
    q = nightly_run.paths.quarantine
    members = pd.read_parquet(q / "party" / "members", columns=["member_id", "_rules"])
    dirty = truth.table("person_records").query("entity == 'members' and dirty_rule != ''")
    assert set(members["member_id"]) == set(dirty["record_key"])
    assert set(members["_rules"]) == set(dirty["dirty_rule"])
    cases = pd.read_parquet(q / "city" / "cases", columns=["case_no", "_rules"])
    dirty_cases = truth.table("cases").query("dirty_rule != ''")
    assert set(cases["case_no"]) == set(dirty_cases["case_key"])
    assert set(cases["_rules"]) == {"reported_at:not_null"}


def test_entity_counts_match_the_truth(warehouse, truth):
    counts = truth.summary["counts"]
    dirty = truth.table("person_records").query("dirty_rule != ''").groupby("entity").size()

    def rows(table: str) -> int:
        return scalar(warehouse, f"select count(*) from {table}")

    assert rows("staging.stg_party__organizations") == counts["party.organizations"]
    assert rows("staging.stg_party__members") == counts["party.members"] - dirty.get("members", 0)
    assert rows("staging.stg_gov__residents") == counts["gov.residents"]
    assert rows("staging.stg_gov__hotline_orders") == counts["gov.hotline_orders"]
    assert rows("marts.dim_grid") == counts["city.grids"]
    assert rows("staging.stg_city__grid_workers") == counts["city.grid_workers"]
    assert rows("marts.dim_organization") == counts["party.organizations"]


def test_one_person_per_real_person(warehouse, truth):
    """Members, residents (many with masked IDs), grid workers and callers collapse to the true persons."""
    persons = scalar(warehouse, "select count(*) from marts.dim_person")
    records = scalar(warehouse, "select count(*) from intermediate.int_person_identities")
    assert records > persons  # without resolution every record would be its own person
    assert persons == truth.summary["persons"]
    members = scalar(warehouse, "select count(*) from marts.dim_person where is_party_member")
    clean_members = truth.table("person_records").query("entity == 'members' and dirty_rule == ''")
    assert members == clean_members["person_id"].nunique()


def test_person_keys_are_exactly_the_true_persons(warehouse, truth):
    """Precision and recall of identity resolution are both 1: no key spans two persons, no person two keys."""
    resolved = warehouse.sql(
        "select record_source, record_key, person_key from intermediate.int_person_identities"
    ).df()
    expected = truth.table("person_records").assign(record_source=lambda t: t["system"] + "." + t["entity"])
    joined = resolved.merge(expected, on=["record_source", "record_key"], how="inner")
    assert len(joined) == len(expected.query("dirty_rule == ''"))
    assert joined.groupby("person_key")["person_id"].nunique().max() == 1
    assert joined.groupby("person_id")["person_key"].nunique().max() == 1


def test_cases_per_grid_match_the_truth(warehouse, truth):
    expected = (
        truth.table("cases")
        .query("dirty_rule == ''")
        .assign(grid_code=lambda t: t["grid_code"].fillna("(12345, no grid)"))
        .groupby("grid_code")
        .size()
        .sort_index()
    )
    actual = (
        warehouse.sql(
            "select coalesce(grid_code, '(12345, no grid)') as grid_code, count(*) n from marts.fct_case group by 1"
        )
        .df()
        .set_index("grid_code")["n"]
        .sort_index()
    )
    pd.testing.assert_series_equal(actual, expected, check_names=False, check_dtype=False)


def test_closed_cases_match_the_truth(warehouse, truth):
    closed = truth.table("cases").query("dirty_rule == '' and closed").shape[0]
    assert scalar(warehouse, "select count(*) from marts.fct_case where is_closed") == closed


def test_analytics_database_holds_no_clear_personal_data(nightly_run, truth):
    persons = truth.table("persons")
    secrets = set(persons["id_number"]) | set(persons["phone"]) | {f"+86{p}" for p in persons["phone"]}
    secrets |= set(persons["full_name"])
    with duckdb.connect(str(nightly_run.paths.analytics), read_only=True) as con:
        tables = con.sql("select schema_name, table_name from duckdb_tables()").fetchall()
        assert {t for _, t in tables} == {"dim_grid", "dim_organization", "dim_person", "fct_case"}
        for schema, table in tables:
            frame = con.sql(f"select * from {schema}.{table}").df()
            for column in frame.columns:
                values = set(frame[column].dropna().astype(str))
                assert not values & secrets, f"{schema}.{table}.{column} holds clear personal data"


def test_run_summary_and_data_docs_are_written(nightly_run, truth):
    last = max(nightly_run.exit_codes).isoformat()
    summary = json.loads((nightly_run.paths.reports / "run_summary" / f"{last}.json").read_text())
    assert summary["published"] and summary["build"]["tests_failed"] == 0
    assert summary["build"]["tests_passed"] > 20
    by_entity = {e["source_entity"]: e for e in summary["entities"]}
    dirty_members = truth.table("person_records").query("entity == 'members' and dirty_rule != ''")
    assert by_entity["party.members"]["rows_quarantined"] == len(dirty_members)
    assert by_entity["party.members"]["rows_read"] == truth.summary["counts"]["party.members"]
    index = data_docs_index(nightly_run.paths)
    assert index.exists()
    validations = list((index.parent / "validations").rglob("*.html"))
    assert len(validations) >= len(CONTRACTS)
