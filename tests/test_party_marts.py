"""The party marts after the real nightly runs equal the simulator's truth: membership periods dated by the
transfers, the roster's SCD2 history, 双报到, volunteer service and the party KPIs per community and street."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from simulator.kpis import with_party_rates
from tests.conftest import DAYS

KEYS = ["community_code", "street_code", "district_code", "date_day"]


@pytest.fixture(scope="module")
def analytics(nightly_run):
    with duckdb.connect(str(nightly_run.paths.analytics), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def warehouse(nightly_run):
    with duckdb.connect(str(nightly_run.paths.warehouse), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def truth_kpis(truth) -> pd.DataFrame:
    return truth.table("kpis_party_daily").assign(
        street_code=lambda t: t["community_code"].str[:9], district_code=lambda t: t["community_code"].str[:6]
    )


def member_of_person(warehouse) -> dict[str, str]:
    """Pseudonymous person key → member number, from the internal warehouse."""
    rows = warehouse.sql(
        "select person_key, record_key from intermediate.int_person_identities"
        " where record_source = 'party.members'"
    ).fetchall()
    return dict(rows)


def party_kpis(con, name: str, columns: list[str]) -> pd.DataFrame:
    frame = con.sql(f"select {', '.join(columns)} from marts.{name}").df()
    frame["date_day"] = frame["date_day"].dt.date
    return frame.sort_values(columns[:2], ignore_index=True)


def test_community_party_kpis_equal_the_truth(analytics, truth_kpis):
    columns = ["community_code", "date_day", "in_service_members", "registered_in_service_members"]
    columns += ["volunteer_records", "volunteer_hours", "volunteer_points", "dual_registration_rate"]
    expected = truth_kpis[columns].sort_values(columns[:2], ignore_index=True)
    actual = party_kpis(analytics, "kpi_party_community_daily", columns)
    assert expected["volunteer_hours"].sum() > 0 and expected["registered_in_service_members"].sum() > 0
    # registrations made during the nights move the rate from one day to the next
    assert expected.groupby("community_code")["registered_in_service_members"].nunique().max() > 1
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, rtol=1e-12)


def per_street(truth_kpis: pd.DataFrame) -> pd.DataFrame:
    """The truth's community rows summed per street and day, rates recomputed from the sums."""
    counts = truth_kpis.columns.difference([*KEYS, "dual_registration_rate", "community_party_coverage_rate"])
    return with_party_rates(
        truth_kpis.groupby(["street_code", "date_day"], as_index=False)[list(counts)].sum()
    )


def test_street_party_kpis_equal_the_truth_rolled_up(analytics, truth_kpis):
    columns = ["street_code", "date_day", "in_service_members", "registered_in_service_members"]
    columns += ["volunteer_records", "volunteer_hours", "volunteer_points", "dual_registration_rate"]
    expected = per_street(truth_kpis)[columns].sort_values(columns[:2], ignore_index=True)
    actual = party_kpis(analytics, "kpi_party_street_daily", columns)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, rtol=1e-12)


def test_party_committee_coverage_equals_the_truth(analytics, truth_kpis):
    """社区大党委 coverage per street, as kpi_street_daily and kpi_community_daily report it."""
    columns = ["street_code", "date_day", "communities", "communities_with_party_committee"]
    columns += ["community_party_coverage_rate"]
    expected = per_street(truth_kpis)[columns].sort_values(columns[:2], ignore_index=True)
    actual = party_kpis(analytics, "kpi_street_daily", columns)
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)
    has = party_kpis(analytics, "kpi_community_daily", ["community_code", "date_day", "has_party_committee"])
    truth = truth_kpis.sort_values(["community_code", "date_day"], ignore_index=True)
    assert (has["has_party_committee"] == truth["communities_with_party_committee"].astype(bool)).all()


def test_membership_periods_equal_the_truth(analytics, warehouse, truth):
    """Periods begin on the transfers' effective dates, late records included, and end at the next one."""
    member = member_of_person(warehouse)
    periods = analytics.sql(
        "select person_key, org_code, valid_from, valid_to, is_current from marts.fct_party_membership"
    ).df()
    periods["member_id"] = periods.pop("person_key").map(member)
    expected = truth.table("party_memberships")
    columns = ["member_id", "valid_from", "org_code", "valid_to", "is_current"]

    def normal(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[columns].sort_values(columns[:2], ignore_index=True)
        return frame.assign(
            **{c: pd.to_datetime(frame[c]).astype("datetime64[us]") for c in ("valid_from", "valid_to")}
        )

    assert periods["member_id"].notna().all()
    pd.testing.assert_frame_equal(normal(periods), normal(expected), check_dtype=False)
    assert (expected.groupby("member_id").size() > 2).any()
    transfers = truth.table("member_transfers").query("dirty_rule == ''")
    late = transfers[transfers["updated_at"].dt.normalize() > transfers["effective_on"]]
    backdated = expected.merge(
        late, left_on=["member_id", "valid_from"], right_on=["member_id", "effective_on"]
    )
    assert len(backdated) > 0


def test_the_roster_history_keeps_each_nightly_change(warehouse, truth):
    """The SCD2 snapshot of the roster adds a version on each night a member's organization changed."""
    transfers = truth.table("member_transfers")
    clean_members = truth.table("person_records").query("entity == 'members' and dirty_rule == ''")
    orgs = pd.DataFrame(index=clean_members["record_key"])
    for night in range(DAYS):
        known = transfers[transfers["first_day"] <= night].sort_values(["member_id", "effective_on"])
        last = known.drop_duplicates("member_id", keep="last").set_index("member_id")["to_org_code"]
        orgs[night] = last.reindex(orgs.index).fillna("(first roster organization)")
    first_night = clean_members.set_index("record_key")["first_day"]
    changes = sum(
        ((orgs[night] != orgs[night - 1]) & (first_night < night)).astype(int) for night in range(1, DAYS)
    )
    versions = warehouse.sql(
        "select member_id, count(*) as n from snapshots.member_organizations group by member_id"
    ).df()
    versions = versions.set_index("member_id")["n"]
    assert changes.sum() > 0
    pd.testing.assert_series_equal(
        versions.sort_index(), (1 + changes).sort_index(), check_names=False, check_dtype=False
    )


def test_dual_registrations_equal_the_truth(analytics, truth):
    registrations = truth.table("dual_registrations").query("dirty_rule == ''")
    loaded = analytics.sql(
        "select registration_id, registrant_kind, org_code, community_code, registered_on, report_year,"
        " activities_count, person_key from marts.fct_dual_registration"
    ).df()
    assert set(loaded["registration_id"]) == set(registrations["registration_id"])
    kinds = loaded.groupby("registrant_kind").size().to_dict()
    assert kinds == {
        "member": int((registrations["registrant_kind"] == "党员").sum()),
        "organization": int((registrations["registrant_kind"] == "党组织").sum()),
    }
    merged = loaded.merge(registrations, on="registration_id", suffixes=("", "_truth"))
    assert (merged["community_code"] == merged["community_code_truth"]).all()
    assert (pd.to_datetime(merged["registered_on"]) == merged["registered_on_truth"]).all()
    assert merged["report_year"].astype("Int64").equals(merged["report_year_truth"].astype("Int64"))
    dirty_members = set(
        truth.table("person_records").query("entity == 'members' and dirty_rule != ''")["record_key"]
    )
    members = merged[merged["registrant_kind"] == "member"]
    assert (members["person_key"].isna() == members["member_id"].isin(dirty_members)).all()


def test_volunteer_service_equals_the_truth(analytics, truth):
    service = truth.table("volunteer_service").query("dirty_rule == ''")
    loaded = analytics.sql(
        "select record_no, community_code, hours, points, is_party_member, person_key"
        " from marts.fct_volunteer_service"
    ).df()
    assert set(loaded["record_no"]) == set(service["record_no"])
    merged = loaded.merge(service, on="record_no", suffixes=("", "_truth"))
    assert (merged["hours"] == merged["hours_truth"]).all() and (
        merged["points"] == merged["points_truth"]
    ).all()
    assert (merged["is_party_member"] == (merged["member_id"] != "")).all()
    # one key per real volunteer, and one volunteer per key
    assert merged.groupby("person_key")["person_id"].nunique().max() == 1
    assert merged.groupby("person_id")["person_key"].nunique().max() == 1
    volunteers = analytics.sql("select count(*) from marts.dim_person where is_volunteer").fetchall()[0][0]
    assert volunteers == service["person_id"].nunique()
