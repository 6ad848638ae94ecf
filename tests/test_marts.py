"""The dashboards' marts after the real nightly runs: KPIs equal the simulator's truth, the catalogue is one,
the example analyst queries run on the published analytics DB, and each night leaves its dbt docs."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingest import case_catalogue, manifest
from ingest.config import Paths
from tests.conftest import DAYS, START
from tests.kpi_marts import KPI_MARTS, assert_kpi_mart_equals_the_truth, case_kpis, coverage_by_day, mart
from warehouse.build import build

NEXT_NIGHT = START + timedelta(days=DAYS)
QUERIES = sorted((Path(__file__).parent.parent / "warehouse" / "queries").glob("*.sql"))


@pytest.fixture(scope="module")
def analytics(nightly_run):
    with duckdb.connect(str(nightly_run.paths.analytics), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def truth_kpis(truth) -> pd.DataFrame:
    return case_kpis(truth)


@pytest.mark.parametrize("name", KPI_MARTS)
def test_kpi_marts_equal_the_truth(analytics, truth, name):
    """Every count and rate of every KPI mart, per place and day, as the simulator's own records give."""
    assert_kpi_mart_equals_the_truth(analytics, truth, name)


def test_the_kpis_compared_are_not_trivial(truth, truth_kpis):
    """The tiny city closes cases late and on time, completes applications within their promise and not, and
    loses party coverage of a grid and a community during the nights compared."""
    assert truth_kpis["cases_closed"].sum() > 0 and truth_kpis["cases_overdue"].sum() > 0
    service = truth.table("kpis_service_daily")
    assert (
        service["applications_completed"].sum() > service["applications_completed_within_promise"].sum() > 0
    )
    # every place covered on the first day; a grid branch and a community committee dissolved by the last
    first, last = coverage_by_day(truth).iloc[[0, -1]].itertuples(index=False)
    assert (
        first.grids_with_party_branch == first.grids
        and first.communities_with_party_committee == first.communities
    )
    assert (
        last.grids_with_party_branch < last.grids and last.communities_with_party_committee < last.communities
    )


def test_party_coverage_changes_on_the_day_of_each_dissolution(analytics, truth):
    """A grid branch or community committee dissolved on day D covers its place on D-1 and not on D: the marts
    read the organizations as they stood at the end of each day. Read from the current organizations they
    would miss D-1; from every organization ever listed (dissolved ones flagged), they would still count D."""
    orgs = truth.table("organizations").set_index("org_code")
    dissolved = truth.table("organization_changes").query("change == 'dissolved'").set_index("org_code")
    on = dissolved["changed_at"].dt.date
    grids = mart(analytics, "kpi_grid_daily", ["grid_code", "date_day", "grids", "grids_with_party_branch"])
    grids = grids.set_index(["grid_code", "date_day"])
    communities = mart(
        analytics, "kpi_community_daily", ["community_code", "date_day", "has_party_committee"]
    )
    communities = communities.set_index(["community_code", "date_day"])
    checked = {"grid": 0, "community": 0}
    for org, day in on.items():
        before = day - timedelta(days=1)
        assert before >= START, org  # the first night lists every organization as it was before the changes
        grid, division = orgs.at[org, "grid_code"], orgs.at[org, "division_code"]
        if grid and grids.at[(grid, day), "grids"]:  # a grid merged away that day counts no more anyway
            assert grids.at[(grid, before), "grids_with_party_branch"] == 1, (org, before)
            assert grids.at[(grid, day), "grids_with_party_branch"] == 0, (org, day)
            checked["grid"] += 1
        if org.startswith("C"):
            assert communities.at[(division, before), "has_party_committee"], (org, before)
            assert not communities.at[(division, day), "has_party_committee"], (org, day)
            checked["community"] += 1
    assert checked["grid"] and checked["community"], checked
    streets = mart(
        analytics, "kpi_street_daily", ["street_code", "date_day", "communities_with_party_committee"]
    )
    assert streets.groupby("street_code")["communities_with_party_committee"].nunique().max() > 1


def test_grid_kpis_cover_every_grid_every_day(analytics, truth):
    grids, days = truth.table("grids")["grid_code"].nunique(), truth.summary["days"]
    rows = analytics.sql(
        "select count(*), count(distinct grid_code), count(distinct date_day) from marts.kpi_grid_daily"
    )
    assert rows.fetchall()[0] == (grids * days, grids, days)


def test_one_catalogue_for_ingest_simulator_and_warehouse(analytics, truth):
    items = case_catalogue.items()
    assert len({i.category_name for i in items}) == 7 and len(items) >= 80
    loaded = analytics.sql(
        "select item_code, item_name, category_name, deadline_hours from marts.dim_case_category"
    )
    assert sorted(loaded.fetchall()) == sorted(
        (i.item_code, i.item_name, i.category_name, i.deadline_hours) for i in items
    )
    # every grid case is coded from the catalogue, and its deadline is its category's
    off = analytics.sql(
        "select count(*) filter (where item_code is null),"
        " count(*) filter (where case_deadline_at <> case_reported_at + to_hours(category_deadline_hours))"
        " from marts.fct_case where origin_system = 'city'"
    )
    assert off.fetchall()[0] == (0, 0)


def test_case_steps_and_step_times(analytics):
    """fct_case_step holds each step of every loaded grid case, and fct_case each step's latest time."""
    counts = analytics.sql(
        "select (select sum(step_count) from marts.fct_case),"
        " (select count(*) from marts.fct_case_step),"
        " (select count(*) from marts.fct_case_step s join marts.fct_case c using (case_key)"
        "  where s.step = '派遣' and s.step_occurred_at = c.case_dispatched_at),"
        " (select count(*) from marts.fct_case where case_dispatched_at is not null)"
    ).fetchall()[0]
    assert counts[0] == counts[1] > 0
    assert counts[2] == counts[3] > 0
    reworked = analytics.sql("select count(*) from marts.fct_case_step where step = '返工'").fetchall()[0][0]
    assert reworked == analytics.sql("select sum(rework_count) from marts.fct_case").fetchall()[0][0] > 0


@pytest.mark.parametrize("query", QUERIES, ids=[q.stem for q in QUERIES])
def test_example_analyst_queries_run_on_the_analytics_db(analytics, query):
    frame = analytics.sql(query.read_text()).df()
    assert len(frame) > 0 and not frame.columns.duplicated().any()


def test_example_queries_agree_with_the_truth(analytics, truth_kpis):
    on_time = analytics.sql((QUERIES[0].parent / "on_time_rate_by_street.sql").read_text()).df()
    expected = truth_kpis.groupby("street_code")[["cases_closed", "cases_closed_on_time"]].sum()
    assert (
        on_time.set_index("street_code")[["cases_closed", "cases_closed_on_time"]]
        .sort_index()
        .astype(int)
        .equals(expected.sort_index())
    )
    load = analytics.sql((QUERIES[0].parent / "grid_worker_load.sql").read_text()).df()
    last_day = truth_kpis[truth_kpis["date_day"] == truth_kpis["date_day"].max()]
    assert load["open_cases_end_of_day"].sum() == last_day["open_cases_end_of_day"].sum()
    backlog = analytics.sql((QUERIES[0].parent / "case_backlog_ageing.sql").read_text()).df()
    assert backlog["open_cases"].sum() == last_day["open_cases_end_of_day"].sum()


def test_public_marts_enforce_contracts_and_are_documented_in_both_languages(nightly_run):
    manifest = json.loads((nightly_run.paths.home / "dbt_target" / "manifest.json").read_text())
    marts = [
        n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"
    ]
    mine = [n for n in marts if n["name"] != "dim_person"]
    assert len(mine) >= 9
    for node in mine:
        assert node["config"]["contract"]["enforced"], node["name"]
        assert _bilingual(node["description"]), node["name"]
        for column in node["columns"].values():
            assert column["data_type"] and _bilingual(column["description"]), (node["name"], column["name"])
    exposures = {e["name"] for e in manifest["exposures"].values()}
    assert "case_handling_dashboard" in exposures


def _bilingual(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and any(
        ch.isascii() and ch.isalpha() for ch in text
    )


def test_each_night_leaves_its_dbt_docs(nightly_run):
    for night in nightly_run.exit_codes:
        folder = nightly_run.paths.dbt_docs / night.isoformat()
        page = (folder / "index.html").read_text()
        assert "kpi_grid_daily" in page
        catalog = json.loads((folder / "catalog.json").read_text())
        assert "model.gridfusion.kpi_grid_daily" in catalog["nodes"]
    summary = json.loads(
        (nightly_run.paths.reports / "run_summary" / f"{max(nightly_run.exit_codes)}.json").read_text()
    )
    assert summary["build"]["docs"].endswith("index.html")


def test_snapshots_extend_the_published_history(nightly_run, tmp_path):
    """A later night moves a grid worker to another grid: the new candidate inherits the published SCD2
    history and closes the old assignment, while the published warehouse keeps its own."""
    home = tmp_path / "home"
    skip = shutil.ignore_patterns("airflow", "logs", "gx", "releases", "candidates")
    shutil.copytree(nightly_run.paths.home, home, ignore=skip)
    paths = Paths(home)
    workers_dir = paths.accepted / "city" / "grid_workers"
    latest = sorted(workers_dir.glob("load_date=*/*.parquet"))[-1]
    workers = pd.read_parquet(latest)
    moved = workers.iloc[0]
    other_grid = next(g for g in workers["grid_code"] if g != moved["grid_code"])
    changed_at = moved["updated_at"] + pd.Timedelta(days=40)
    workers.loc[0, ["grid_code", "updated_at"]] = [other_grid, changed_at]
    workers["_load_date"] = NEXT_NIGHT
    (workers_dir / f"load_date={NEXT_NIGHT}").mkdir()
    workers.to_parquet(workers_dir / f"load_date={NEXT_NIGHT}" / "moved.parquet", index=False)
    # The build keeps only rows an accepted batch owns: record the moved extract as that night's batch.
    last = manifest.batches(paths.manifest, "city", "grid_workers")[-1]
    manifest.write(
        paths.manifest,
        replace(
            last,
            batch_id="moved",
            load_date=NEXT_NIGHT.isoformat(),
            status="accepted",
            landed_at=manifest.now(),
        ),
    )

    history = "select grid_code, dbt_valid_from, dbt_valid_to from snapshots.grid_worker_assignments"
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        published = con.sql(f"{history} order by all").fetchall()
    candidate = build(NEXT_NIGHT, paths).candidate
    with duckdb.connect(str(candidate), read_only=True) as con:
        versions = con.sql(
            f"{history} where worker_id = ? order by dbt_valid_from", params=[moved["worker_id"]]
        )
        assert versions.fetchall()[-2:] == [
            (moved["grid_code"], moved["updated_at"], changed_at),
            (other_grid, changed_at, None),
        ]
        assert len(con.sql(history).fetchall()) == len(published) + 1
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        assert con.sql(f"{history} order by all").fetchall() == published


def test_dim_unit_is_one_row_per_real_unit_with_a_valid_code(analytics, truth):
    units = truth.table("resident_units")
    clean = units[units["dirty_rule"] == ""]
    loaded = analytics.sql(
        "select unit_key, unit_type, community_code, registrations from marts.dim_unit"
    ).df()
    expected = (
        clean.groupby("credit_code")
        .agg(
            unit_type=("unit_type", "first"),
            community_code=("community_code", "first"),
            registrations=("unit_id", "size"),
        )
        .reset_index()
        .rename(columns={"credit_code": "unit_key"})
    )
    assert (expected["registrations"] > 1).any()
    pd.testing.assert_frame_equal(
        loaded.sort_values("unit_key", ignore_index=True), expected, check_dtype=False
    )


def test_dim_service_item_is_the_list_without_its_unusable_rows(analytics, truth):
    items = truth.table("service_items").query("dirty_rule == ''")
    loaded = analytics.sql(
        "select item_code, promised_working_days, is_online, is_one_visit from marts.dim_service_item"
    ).df()
    expected = items[["item_code", "promised_working_days", "online", "one_visit"]].set_axis(
        loaded.columns, axis=1
    )
    pd.testing.assert_frame_equal(
        loaded.sort_values("item_code", ignore_index=True),
        expected.sort_values("item_code", ignore_index=True),
        check_dtype=False,
    )


def test_voided_cases_are_marked_and_left_out_of_every_kpi(analytics, truth):
    """作废 is a soft delete: the case stays in fct_case, flagged with its time, and no KPI counts it."""
    cases = truth.table("cases").query("origin_system == 'city' and dirty_rule == ''")
    voided = cases[cases["is_deleted"]]
    marked = analytics.sql("select case_key, case_deleted_at from marts.fct_case where is_deleted").df()
    assert len(voided) and sorted(marked["case_key"]) == sorted(voided["case_key"])
    assert {"12345转办", "巡查"} <= set(voided["case_origin"])  # a forwarded 12345 case voided, too
    at = marked.set_index("case_key")["case_deleted_at"].sort_index()
    assert (at.to_numpy() == voided.set_index("case_key")["deleted_at"].sort_index().dt.floor("s")).all()
    opened = analytics.sql("select sum(cases_opened) from marts.kpi_grid_daily").fetchall()[0][0]
    assert opened == len(cases) - len(voided)


def test_a_late_closure_counts_on_the_day_it_happened(analytics, truth, truth_kpis):
    cases = truth.table("cases").query("origin_system == 'city' and dirty_rule == '' and closed")
    late = cases[cases["closure_delivered_at"].dt.date > cases["closed_at"].dt.date]
    assert len(late)
    loaded = analytics.sql(
        "select case_key, case_closed_at from marts.fct_case where list_contains(?, case_key)",
        params=[list(late["case_key"])],
    ).df()
    expected = late.set_index("case_key")["closed_at"].dt.floor("s").sort_index()
    assert (loaded.set_index("case_key")["case_closed_at"].sort_index() == expected).all()
    closed = mart(analytics, "kpi_grid_daily", ["grid_code", "date_day", "cases_closed"])
    on_their_day = closed.merge(
        late.assign(date_day=late["closed_at"].dt.date)[["grid_code", "date_day"]].drop_duplicates()
    )
    assert len(on_their_day) and (on_their_day["cases_closed"] > 0).all()


def test_worker_assignments_equal_who_served_where(analytics, truth):
    """Moves at the source's change time; a leaver's assignment ends with the day the snapshot lost them."""
    expected = truth.table("worker_assignments")
    ended = expected["valid_to"].notna()
    left = expected["left"]
    expected.loc[left, "valid_to"] = expected.loc[left, "valid_to"].dt.normalize() + pd.Timedelta(days=1)
    expected = expected.assign(  # in the warehouse's unit: with NaT present, values compare as integers
        valid_from=expected["valid_from"].dt.floor("s").astype("datetime64[us]"),
        valid_to=expected["valid_to"].dt.floor("s").astype("datetime64[us]"),
    )
    actual = analytics.sql(
        "select worker_id, grid_code, worker_type, assigned_from as valid_from, assigned_until as valid_to,"
        " has_left as left, is_current from marts.fct_grid_worker_assignment"
    ).df()
    actual = actual.astype({"valid_from": "datetime64[us]", "valid_to": "datetime64[us]"})
    assert ended.any() and left.any()
    assert (actual["is_current"] == actual["valid_to"].isna()).all()
    columns = ["worker_id", "valid_from", "grid_code", "worker_type", "valid_to", "left"]
    pd.testing.assert_frame_equal(
        actual[columns].sort_values(columns[:2], ignore_index=True),
        expected[columns].sort_values(columns[:2], ignore_index=True),
        check_dtype=False,
    )


def test_each_applicant_is_one_person_or_one_unit(analytics, truth):
    apps = truth.table("service_applications").query("dirty_rule == ''")
    loaded = analytics.sql(
        "select application_no, applicant_person_key, applicant_unit_key from marts.fct_service_application"
    ).df()
    joined = loaded.merge(apps, on="application_no", how="outer", validate="one_to_one", indicator=True)
    assert (joined["_merge"] == "both").all()
    people = joined[joined["applicant_type"] == "个人"]
    assert people["applicant_person_key"].notna().all() and people["applicant_unit_key"].isna().all()
    assert people.groupby("applicant_person_key")["person_id"].nunique().max() == 1
    assert people.groupby("person_id")["applicant_person_key"].nunique().max() == 1
    # an applicant is a person record of its own, resolved to the same person as their resident record
    applicants = analytics.sql("select person_key from marts.dim_person where is_service_applicant").df()
    assert set(applicants["person_key"]) == set(people["applicant_person_key"])
    units = joined[joined["applicant_type"] == "单位"]
    assert len(units) and (units["applicant_unit_key"] == units["credit_code"]).all()


def test_council_meetings_equal_the_truth(analytics, truth):
    expected = truth.table("council_meetings").query("dirty_rule == ''")
    columns = ["meeting_id", "grid_code", "held_on", "attendees", "party_member_attendees", "cases_raised"]
    actual = analytics.sql(f"select {', '.join(columns)} from marts.fct_council_meeting").df()
    assert len(expected)
    pd.testing.assert_frame_equal(
        actual.assign(held_on=pd.to_datetime(actual["held_on"])).sort_values("meeting_id", ignore_index=True),
        expected[columns]
        .assign(held_on=pd.to_datetime(expected["held_on"]))
        .sort_values("meeting_id", ignore_index=True),
        check_dtype=False,
    )
