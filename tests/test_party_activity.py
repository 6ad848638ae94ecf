"""The simulated party activity hangs together: the roster follows the transfers it knows of, transfers chain,
some arrive late, registrations and volunteers live where they register and serve."""

from __future__ import annotations

import io
from datetime import timedelta

import pandas as pd
import pytest

from simulator.generate import generate
from simulator.presets import Messiness
from tests.conftest import DAYS, START


def read_drop(tiny_drops, day: int, name: str) -> pd.DataFrame:
    """A party extract, without the exact repeats of a row the export writes (landing drops them too)."""
    path = tiny_drops / "party" / (START + timedelta(days=day)).isoformat() / name
    frame = pd.read_csv(io.StringIO(path.read_bytes().decode("gbk")), dtype=str, keep_default_na=False)
    return frame.drop_duplicates()


@pytest.fixture(scope="module")
def transfers(truth) -> pd.DataFrame:
    return truth.table("member_transfers")


def test_the_roster_shows_the_organization_of_the_last_transfer_recorded(tiny_drops, transfers, truth):
    records = truth.table("person_records")
    # filed under an organization that does not exist: dirty on purpose, whatever their transfers say
    dangling = records.query("entity == 'members' and dirty_rule == 'org_code:references'")["record_key"]
    assert len(dangling) > 0
    for day in range(DAYS):
        roster = read_drop(tiny_drops, day, "members.csv").set_index("党员编号")["所在组织编码"]
        known = transfers[transfers["first_day"] <= day].sort_values(["member_id", "effective_on"])
        last = known.drop_duplicates("member_id", keep="last").set_index("member_id")["to_org_code"]
        last = last.drop(dangling, errors="ignore")
        assert len(last) > 0
        pd.testing.assert_series_equal(roster[last.index], last, check_names=False)
        # a member with no transfer on record stays in the organization of their first roster row
        unmoved = roster.index.difference(transfers["member_id"])
        first = read_drop(tiny_drops, 0, "members.csv").set_index("党员编号")["所在组织编码"]
        settled = unmoved.intersection(first.index)
        assert len(settled) > 0 and (roster[settled] == first[settled]).all()


def test_transfers_chain_and_each_moves_somewhere(transfers):
    ordered = transfers.sort_values(["member_id", "effective_on"], ignore_index=True)
    assert (ordered["from_org_code"] != ordered["to_org_code"]).all()
    same_member = ordered["member_id"].eq(ordered["member_id"].shift())
    assert same_member.any()
    pd.testing.assert_series_equal(
        ordered.loc[same_member, "from_org_code"],
        ordered["to_org_code"].shift()[same_member],
        check_names=False,
    )
    community = transfers[["from_org_code", "to_org_code"]].apply(lambda c: c.str[1:13])
    internal = community["from_org_code"] == community["to_org_code"]
    assert ((transfers["transfer_type"] == "内部调整") == internal).all()
    assert set(transfers["transfer_type"]) == {"转入", "转出", "内部调整"}


def test_late_transfers_arrive_in_a_later_drop_than_their_effective_date(tmp_path):
    drops = tmp_path / "drops"
    generate("tiny", drops, days=DAYS, start=START, mess=Messiness(late_transfer=0.5))
    transfers = pd.read_parquet(drops / "truth" / "member_transfers.parquet")
    # the first drop carries everything effective before it
    effective_day = (transfers["effective_on"] - pd.Timestamp(START)).dt.days.clip(lower=0)
    late = transfers[transfers["first_day"] > effective_day]
    assert len(late) > 0
    for t in late.itertuples():
        for day in range(DAYS):
            numbers = set(read_drop(drops, day, "member_transfers.csv")["转接编号"])
            assert (t.transfer_no in numbers) == (day == t.first_day), (t.transfer_no, day)


def test_registrants_register_where_they_live_or_sit(truth):
    registrations = truth.table("dual_registrations")
    persons = truth.table("persons").set_index("person_id")
    members = truth.table("person_records").query("entity == 'members'").set_index("record_key")
    people = registrations[registrations["registrant_kind"] == "党员"]
    units = registrations[registrations["registrant_kind"] == "党组织"]
    assert len(people) and len(units)
    lives = people["member_id"].map(members["person_id"]).map(persons["community_code"])
    assert (lives == people["community_code"]).all()
    assert (units["org_code"].str[1:13] == units["community_code"]).all()
    reported = registrations["report_year"].notna()
    assert reported.any() and (~reported).any()
    assert (
        registrations.loc[reported, "report_submitted_on"] > registrations.loc[reported, "registered_on"]
    ).all()


def test_volunteers_serve_where_they_live_for_points_by_the_hour(truth):
    service = truth.table("volunteer_service")
    persons = truth.table("persons").set_index("person_id")
    assert (service["person_id"].map(persons["community_code"]) == service["community_code"]).all()
    assert (service["points"] == service["hours"] * 10).all()
    members = truth.table("person_records").query("entity == 'members'")
    is_member = service["person_id"].isin(members["person_id"])
    assert ((service["member_id"] != "") == is_member).all()
    assert is_member.any() and (~is_member).any()
    assert not service.duplicated(["activity_id", "person_id"]).any()
