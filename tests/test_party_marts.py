"""The party marts after the real nightly runs equal the simulator's truth: membership periods dated by the
transfers, the roster's SCD2 history, 双报到 and volunteer service (the party KPI marts: tests/test_marts.py)."""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from tests.conftest import DAYS, START
from tests.kpi_marts import party_kpis


@pytest.fixture(scope="module")
def analytics(nightly_run):
    with duckdb.connect(str(nightly_run.paths.analytics), read_only=True) as con:
        yield con


@pytest.fixture(scope="module")
def warehouse(nightly_run):
    with duckdb.connect(str(nightly_run.paths.warehouse), read_only=True) as con:
        yield con


def member_of_person(warehouse) -> dict[str, str]:
    """Pseudonymous person key → member number, from the internal warehouse."""
    rows = warehouse.sql(
        "select person_key, record_key from intermediate.int_person_identities"
        " where record_source = 'party.members'"
    ).fetchall()
    return dict(rows)


def test_party_kpis_change_from_one_day_to_the_next(truth):
    """The party KPIs compared in test_marts.py are not trivial: hours served, members registered, and
    registrations made during the nights move the rate from one day to the next."""
    expected = party_kpis(truth)
    assert expected["volunteer_hours"].sum() > 0 and expected["registered_in_service_members"].sum() > 0
    assert expected.groupby("community_code")["registered_in_service_members"].nunique().max() > 1
    assert 0 < expected["communities_with_party_committee"].sum() <= expected["communities"].sum()


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


def test_organization_versions_are_the_truths_changes(analytics, truth):
    """Each renaming, re-parenting and dissolution the simulator made during the nights is a version of
    dim_organization_history from the end of its day; every other organization has its one version, current."""
    changes = truth.table("organization_changes")
    assert set(changes["change"]) == {"renamed", "reparented", "dissolved"}
    columns = ["org_name", "org_type", "parent_org_code"]
    history = analytics.sql(
        f"select org_code, {', '.join(columns)}, valid_from, valid_to, ends_in_dissolution"
        " from marts.dim_organization_history"
    ).df()
    first_night = pd.Timestamp(START + timedelta(days=1))
    change_night = changes["changed_at"].dt.floor("D") + pd.Timedelta(days=1)
    before = changes[["org_code", *columns]].assign(
        valid_from=first_night, valid_to=change_night, ends_in_dissolution=changes["change"] == "dissolved"
    )
    kept = changes["change"] != "dissolved"
    after = (
        changes.loc[kept, ["org_code", *(f"new_{c}" for c in columns)]]
        .rename(columns=lambda c: c.removeprefix("new_"))
        .assign(valid_from=change_night[kept], valid_to=pd.NaT, ends_in_dissolution=False)
    )
    expected = pd.concat([before, after]).sort_values(["org_code", "valid_from"], ignore_index=True)
    changed = history[history["org_code"].isin(changes["org_code"])]
    changed = changed.sort_values(["org_code", "valid_from"], ignore_index=True)
    for frame in (changed, expected):
        frame[["valid_from", "valid_to"]] = frame[["valid_from", "valid_to"]].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(changed, expected, check_dtype=False)
    unchanged = history[~history["org_code"].isin(changes["org_code"])]
    assert (
        len(unchanged)
        == unchanged["org_code"].nunique()
        == truth.summary["counts"]["party.organizations"] - (kept.sum())
    )
    assert (unchanged["valid_from"] == first_night).all() and unchanged["valid_to"].isna().all()

    dissolved = sorted(
        zip(changes.loc[~kept, "org_code"], change_night[~kept].dt.to_pydatetime(), strict=True)
    )
    flagged = analytics.sql(
        "select org_code, org_dissolved_at from marts.dim_organization where not is_current order by org_code"
    ).fetchall()
    assert flagged == dissolved
