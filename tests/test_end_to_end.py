"""The whole night, for real: two simulated days through the Airflow DAG, checked against the truth."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from expectations.report import report_for
from expectations.suites import expectations_for
from expectations.validate import data_docs_index
from ingest import manifest
from ingest.contracts import CONTRACTS, Contract, get
from tests.conftest import START

pytestmark = pytest.mark.usefixtures("nightly_run")
# How the simulated systems encode their CSV drops, to read the kept raw files independently of ingest.
CSV_ENCODING = {"party": "gbk", "city": "utf-8-sig"}
XLSX_FIRST_ROW = 4  # the item list: a title row and two header rows above the data


def raw_records(path: Path, contract: Contract) -> dict[int, dict[str, str]]:
    """A kept or dropped extract file's records by source row, read with the standard library and openpyxl
    (values as the source's text), not with ingest's readers."""
    if contract.format == "csv":
        text = path.read_bytes().decode(CSV_ENCODING[contract.system])
        return dict(enumerate(csv.DictReader(io.StringIO(text)), start=1))
    if contract.format == "json_pages":
        records = json.loads(path.read_bytes())["data"]["records"]
        as_text = [{k: "" if v is None else str(v) for k, v in r.items()} for r in records]
        return dict(enumerate(as_text, start=1))
    sheet = load_workbook(path, read_only=True).active
    names = [c.source for c in contract.columns]  # the simulated export's columns, in the contract's order
    rows = sheet.iter_rows(min_row=XLSX_FIRST_ROW, values_only=True)
    return {
        number: {n: "" if v is None else str(v) for n, v in zip(names, values, strict=True)}
        for number, values in enumerate(rows, start=XLSX_FIRST_ROW)
    }


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


def test_row_accounting_holds_for_every_batch(nightly_run, truth, tiny_drops):
    """Rows read = loaded + quarantined per batch, and the quarantined rows are exactly the dirty ones."""
    batches = [b for c in CONTRACTS for b in manifest.batches(nightly_run.paths.manifest, c.system, c.entity)]
    assert {b.status for b in batches} <= {"accepted", "duplicate"}
    repeated = truth.table("duplicate_rows")
    for b in batches:
        assert b.rows_read == b.rows_loaded + b.rows_quarantined + b.duplicates_dropped, b
        if (
            b.status == "accepted"
        ):  # exact copies of a row are dropped at landing, as many as the export wrote
            day = (date.fromisoformat(b.load_date) - START).days
            copies = repeated[
                (repeated["system"] == b.system)
                & (repeated["entity"] == b.entity)
                & (repeated["first_day"] <= day)
            ]
            assert b.duplicates_dropped == len(copies), b
    assert repeated["entity"].nunique() == 2  # members and grid workers: the check above is not vacuous
    quarantined = {(b.entity, b.load_date): b.rows_quarantined for b in batches if b.status == "accepted"}
    dirty_members = truth.table("person_records").query("entity == 'members' and dirty_rule != ''")
    # the party snapshot repeats each member every night, so a dirty member is quarantined every night from
    # the one it first appears in
    for night in nightly_run.exit_codes:
        present = dirty_members[dirty_members["first_day"] <= (night - START).days]
        assert quarantined[("members", night.isoformat())] == len(present)
    assert len(dirty_members) > 0
    # every entity with dirty records: each accepted batch quarantined exactly the dirty rows its drop held
    for b in batches:
        if b.status == "accepted" and f"{b.system}.{b.entity}" in SERVICE_ENTITIES:
            night = pd.Timestamp(b.load_date).date()
            held = dirty_rows_dropped(tiny_drops, truth, night, [f"{b.system}.{b.entity}"])
            assert b.rows_quarantined == sum(held.values()) > 0 or b.rows_quarantined == 0 == sum(
                held.values()
            ), b


def test_quarantine_holds_exactly_the_dirty_records_with_their_rule(nightly_run, truth):
    q = nightly_run.paths.quarantine
    members = pd.read_parquet(q / "party" / "members", columns=["member_id", "_rules"])
    dirty = truth.table("person_records").query("entity == 'members' and dirty_rule != ''")
    assert set(members["member_id"]) == set(dirty["record_key"])
    assert set(members["_rules"]) == set(dirty["dirty_rule"])
    cases = pd.read_parquet(q / "city" / "cases", columns=["case_no", "_rules"])
    dirty_cases = truth.table("cases").query("dirty_rule != ''")
    assert set(cases["case_no"]) == set(dirty_cases["case_key"])
    assert (
        set(cases["_rules"])
        == set(dirty_cases["dirty_rule"])
        == {"reported_at:not_null", "grid_code:references"}
    )
    dirty = dirty_records(truth)
    for entity in SERVICE_ENTITIES:
        contract = get(*entity.split("."))
        key = contract.primary_key[0]
        found = pd.read_parquet(q / contract.system / contract.entity, columns=[key, "_rules"])
        assert dict(zip(found[key], found["_rules"], strict=True)) == dirty[entity], entity
        assert len(dirty[entity]) > 0, entity
    meetings = pd.read_parquet(q / "city" / "council_meetings", columns=["meeting_id", "_rules"])
    dirty_meetings = truth.table("council_meetings").query("dirty_rule != ''")
    assert len(dirty_meetings) and set(meetings["meeting_id"]) == set(dirty_meetings["meeting_id"])
    assert set(meetings["_rules"]) == {"attendees:not_null"}


def test_entity_counts_match_the_truth(warehouse, truth):
    counts = truth.summary["counts"]
    dirty = truth.table("person_records").query("dirty_rule != ''").groupby("entity").size()

    def rows(table: str) -> int:
        return scalar(warehouse, f"select count(*) from {table}")

    assert rows("staging.stg_party__organizations") == counts["party.organizations"]
    assert rows("staging.stg_party__members") == counts["party.members"] - dirty.get("members", 0)
    assert rows("staging.stg_gov__residents") == counts["gov.residents"]
    assert rows("staging.stg_gov__hotline_orders") == counts["gov.hotline_orders"]
    assert rows("marts.dim_grid where is_current") == counts["city.grids"]
    assert rows("marts.dim_grid") == len(truth.table("grids"))  # a grid merged away stays, flagged
    assert rows("staging.stg_city__grid_workers") == counts["city.grid_workers"]
    assert rows("marts.dim_organization where is_current") == counts["party.organizations"]
    dissolved = truth.table("organization_changes").query("change == 'dissolved'")
    assert rows("marts.dim_organization") == counts["party.organizations"] + len(
        dissolved
    )  # they stay, flagged
    for entity, model in (
        ("member_transfers", "stg_party__member_transfers"),
        ("dual_registrations", "stg_party__dual_registrations"),
        ("volunteer_service", "stg_party__volunteer_service"),
    ):
        dirty_rows = truth.table(entity).query("dirty_rule != ''")
        assert len(dirty_rows) > 0
        assert rows(f"staging.{model}") == counts[f"party.{entity}"] - len(dirty_rows), entity
    for entity in SERVICE_ENTITIES:
        clean = counts[entity] - len(dirty_records(truth)[entity])
        assert rows(f"staging.stg_gov__{entity.split('.')[1]}") == clean, entity
    units = truth.table("resident_units").query("dirty_rule == ''")
    assert rows("marts.dim_unit") == units["unit_index"].nunique() < len(units)  # duplicates resolved


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
    secrets |= set(persons["full_name"] + "|+86" + persons["phone"])  # how a volunteer is keyed in staging
    secrets |= {
        f"{i[:6]}********{i[14:]}" for i in persons["id_number"]
    }  # masked, as residents and applicants
    units = truth.table("resident_units")
    secrets |= set(units["contact_phone"]) | set(units["address"])
    with duckdb.connect(str(nightly_run.paths.analytics), read_only=True) as con:
        tables = con.sql("select schema_name, table_name from duckdb_tables()").fetchall()
        assert {t for _, t in tables} == {
            *("dim_grid", "dim_organization", "dim_person", "dim_date", "dim_case_category"),
            "dim_organization_history",
            *("fct_case", "fct_case_step", "kpi_grid_daily", "kpi_community_daily", "kpi_street_daily"),
            *("fct_party_membership", "fct_dual_registration", "fct_volunteer_service"),
            *("kpi_party_community_daily", "kpi_party_street_daily"),
            *("dim_unit", "dim_service_item", "fct_service_application", "kpi_service_community_daily"),
            *("fct_grid_worker_assignment", "fct_council_meeting"),
        }
        for schema, table in tables:
            frame = con.sql(f"select * from {schema}.{table}").df()
            for column in frame.columns:
                values = set(frame[column].dropna().astype(str))
                assert not values & secrets, f"{schema}.{table}.{column} holds clear personal data"


def all_batches(paths) -> list[manifest.Batch]:
    return [b for c in CONTRACTS for b in manifest.batches(paths.manifest, c.system, c.entity)]


def dirty_records(truth) -> dict[str, dict[str, str]]:
    """Per source entity, the key of each dirty record and the rule that must catch it, from the truth."""
    members = truth.table("person_records").query("entity == 'members' and dirty_rule != ''")
    cases = truth.table("cases").query("dirty_rule != ''")
    meetings = truth.table("council_meetings").query("dirty_rule != ''")
    party = {
        f"party.{entity}": truth.table(entity)
        .query("dirty_rule != ''")
        .set_index(key)["dirty_rule"]
        .to_dict()
        for entity, key in (
            ("member_transfers", "transfer_no"),
            ("dual_registrations", "registration_id"),
            ("volunteer_service", "record_no"),
        )
    }
    found = {
        "party.members": dict(zip(members["record_key"], members["dirty_rule"], strict=True)),
        "city.cases": dict(zip(cases["case_key"], cases["dirty_rule"], strict=True)),
        **party,
        "city.council_meetings": dict(zip(meetings["meeting_id"], meetings["dirty_rule"], strict=True)),
    }
    for entity in SERVICE_ENTITIES:
        contract = get(*entity.split("."))
        records = truth.table(contract.entity).query("dirty_rule != ''")
        found[entity] = dict(zip(records[contract.primary_key[0]], records["dirty_rule"], strict=True))
    return found


SERVICE_ENTITIES = ("gov.resident_units", "gov.service_items", "gov.service_applications")


def source_key(entity: str) -> str:
    """The source's name for the entity's (first) key column, as it appears in a raw record."""
    contract = get(*entity.split("."))
    return contract.column(contract.primary_key[0]).source


def test_ops_quarantined_rows_are_exactly_the_dirty_records(warehouse, nightly_run, truth):
    rows = warehouse.sql(
        "select source_entity, record_key, load_date::varchar as load_date, batch_id, source_file, source_row,"
        " rules, raw_record::varchar as raw_record from ops.quarantined_rows"
    ).df()
    dirty = dirty_records(truth)
    assert set(rows["source_entity"]) == set(dirty)
    for entity, rules in dirty.items():
        found = rows[rows["source_entity"] == entity]
        by_raw_key = {
            json.loads(raw)[source_key(entity)]: rule
            for raw, rule in zip(found["raw_record"], found["rules"], strict=True)
        }
        assert by_raw_key == rules, entity
        assert set(found["record_key"]) == set(rules), entity

    # one row per quarantined source row, in the batch the manifest counted it in
    per_batch = rows.groupby("batch_id").size().to_dict()
    assert per_batch == {
        b.batch_id: b.rows_quarantined for b in all_batches(nightly_run.paths) if b.rows_quarantined
    }

    # lineage leads back to the very record: that row of that file, as kept when it landed
    for r in rows.itertuples():
        system, entity = r.source_entity.split(".")
        kept = nightly_run.paths.landing_raw / system / entity / f"load_date={r.load_date}" / r.batch_id
        records = raw_records(kept / r.source_file, get(system, entity))
        assert records[r.source_row] == json.loads(r.raw_record), r


def test_ops_batch_history_matches_the_manifest(warehouse, nightly_run):
    columns = [
        "batch_id",
        "status",
        "rows_read",
        "rows_loaded",
        "rows_quarantined",
        "duplicates_dropped",
        "contract_version",
    ]
    history = (
        warehouse.sql(
            f"select source_entity, load_date::varchar as load_date, {', '.join(columns)} from ops.batch_history"
        )
        .df()
        .sort_values("batch_id", ignore_index=True)
    )
    expected = pd.DataFrame(
        [
            {
                "source_entity": f"{b.system}.{b.entity}",
                "load_date": b.load_date,
                **{c: getattr(b, c) for c in columns},
            }
            for b in all_batches(nightly_run.paths)
        ]
    ).sort_values("batch_id", ignore_index=True)
    pd.testing.assert_frame_equal(history, expected, check_dtype=False)
    accounted = history["rows_loaded"] + history["rows_quarantined"] + history["duplicates_dropped"]
    assert (history["rows_read"] == accounted).all()
    assert sorted(history["load_date"].unique()) == [
        night.isoformat() for night in sorted(nightly_run.exit_codes)
    ]


def test_ops_rule_outcomes_hold_every_rule_of_every_validated_batch(warehouse, nightly_run):
    outcomes = warehouse.sql(
        "select batch_id, source_entity, rule, verdict, unexpected_count from ops.rule_outcomes"
    ).df()
    validated = [b for b in all_batches(nightly_run.paths) if b.status == "accepted"]
    assert set(outcomes["batch_id"]) == {b.batch_id for b in validated}
    for b in validated:
        rules = set(outcomes.loc[outcomes["batch_id"] == b.batch_id, "rule"])
        assert rules == {e.meta["rule"] for e in expectations_for(get(b.system, b.entity), START)}
    caught = outcomes[outcomes["verdict"] == "warn"].groupby("batch_id")["unexpected_count"].sum().to_dict()
    assert caught == {b.batch_id: b.rows_quarantined for b in validated if b.rows_quarantined}
    assert not (outcomes["verdict"] == "fail").any()


def dirty_rows_dropped(tiny_drops, truth, night, entities=None) -> dict[tuple[str, str], int]:
    """Per source entity and rule, how many dirty records that night's drop holds, read from the drop itself."""
    counts: dict[tuple[str, str], int] = {}
    for entity, rules in dirty_records(truth).items():
        if entities is not None and entity not in entities:
            continue
        contract = get(*entity.split("."))
        files = sorted((tiny_drops / contract.system / night.isoformat()).glob(contract.file_glob))
        keys = [r[source_key(entity)] for f in files for r in raw_records(f, contract).values()]
        for key in keys:
            if key in rules:
                counts[(entity, rules[key])] = counts.get((entity, rules[key]), 0) + 1
    return counts


def test_quality_summary_reports_the_warnings_that_fired(nightly_run, truth, tiny_drops, html_tables):
    for night in sorted(nightly_run.exit_codes):
        report = report_for(night, nightly_run.paths)
        summary = json.loads(report.json.read_text())
        assert summary["load_date"] == night.isoformat()
        entities = {e["source_entity"]: e for e in summary["entities"]}
        assert {e["status"] for e in entities.values()} <= {"accepted", "duplicate"}
        rules = [(name, r) for name, e in entities.items() for r in e["rules"]]
        assert {r["verdict"] for _, r in rules} == {"pass", "warn"}
        warned = {(name, r["rule"]): r["unexpected_count"] for name, r in rules if r["verdict"] == "warn"}
        validated = [
            name for name, e in entities.items() if e["status"] == "accepted"
        ]  # not a repeated snapshot
        expected = dirty_rows_dropped(tiny_drops, truth, night, validated)
        assert expected and warned == expected, night
        assert summary["verdict"] == "warn"

        by_entity, not_passed, *_drift = html_tables(report.html.read_text())
        verdict_column = by_entity[0].index("结论 verdict")
        assert {row[0]: row[verdict_column] for row in by_entity[1:]} == {
            n: e["verdict"] for n, e in entities.items()
        }
        assert {(row[0], row[1], row[3], int(row[4])) for row in not_passed[1:]} == {
            (entity, rule, "warn", n) for (entity, rule), n in expected.items()
        }
        for entity in entities.values():
            if entity["data_docs"]:
                assert (report.html.parent / entity["data_docs"]).is_file()


def test_volume_is_compared_with_the_night_before(nightly_run, truth):
    first, second = (
        json.loads(report_for(n, nightly_run.paths).json.read_text())
        for n in sorted(nightly_run.exit_codes)[:2]
    )
    units = {e["source_entity"]: e for e in second["entities"]}["gov.resident_units"]
    # the same snapshot again: loaded once, and counted with the rows of the batch it repeats
    assert units["status"] == "duplicate"
    count = truth.summary["counts"]["gov.resident_units"]
    assert units["volume"] == {"rows": count, "previous_rows": count, "change": 0, "change_pct": 0.0}
    before = {e["source_entity"]: e["rows_read"] for e in first["entities"]}
    for e in second["entities"]:
        if e["status"] == "accepted":
            assert e["volume"]["previous_rows"] == before[e["source_entity"]]
            assert e["volume"]["change"] == e["rows_read"] - before[e["source_entity"]]
    assert all(e["volume"]["previous_rows"] is None for e in first["entities"])


def test_unit_organizations_link_to_their_unit(warehouse, truth):
    """A resident unit's party organization names its unit by credit code, however the party system typed it."""
    orgs = truth.table("organizations").query("credit_code != ''")
    linked = warehouse.sql(
        "select o.org_code, u.unit_key from marts.dim_organization as o join marts.dim_unit as u using (unit_key)"
    ).df()
    assert len(orgs) and sorted(zip(linked["org_code"], linked["unit_key"], strict=True)) == sorted(
        zip(orgs["org_code"], orgs["credit_code"], strict=True)
    )
    unlinked = warehouse.sql("select count(*) from marts.dim_organization where unit_key is null").fetchall()
    assert unlinked[0][0] == len(truth.table("organizations")) - len(orgs)


def test_run_summary_and_data_docs_are_written(nightly_run, truth):
    last = max(nightly_run.exit_codes).isoformat()
    summary = json.loads((nightly_run.paths.reports / "run_summary" / f"{last}.json").read_text())
    assert summary["published"] and summary["build"]["tests_failed"] == 0
    assert summary["build"]["tests_passed"] > 20
    by_entity = {e["source_entity"]: e for e in summary["entities"]}
    dirty_members = truth.table("person_records").query("entity == 'members' and dirty_rule != ''")
    assert by_entity["party.members"]["rows_quarantined"] == len(dirty_members)
    members = by_entity["party.members"]
    assert members["rows_read"] - members["duplicates_dropped"] == truth.summary["counts"]["party.members"]
    assert members["duplicates_dropped"] == len(truth.table("duplicate_rows").query("entity == 'members'"))
    index = data_docs_index(nightly_run.paths).read_text()
    for night in sorted(nightly_run.exit_codes):
        assert f'href="{night.isoformat()}/index.html"' in index
        # each night's site shows that night's validations and no other night's
        site = nightly_run.paths.data_docs / night.isoformat()
        pages = {page.parts[-3] for page in (site / "validations").rglob("*.html")}  # run name = batch id
        validated = {
            b.batch_id
            for b in all_batches(nightly_run.paths)
            if b.load_date == night.isoformat() and b.validated_at
        }
        assert pages == validated and (site / "index.html").is_file()
