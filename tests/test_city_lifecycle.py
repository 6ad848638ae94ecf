"""What happens to city records after they are first written, as the simulator's drops show it: voided cases,
closures reaching the extract late, grid workers moving and leaving, and grid council meetings."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from ingest import normalise
from ingest.contracts import GRID
from simulator.generate import generate
from simulator.presets import Messiness
from tests.conftest import DAYS, START


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _by_day(drops: Path, name: str) -> pd.DataFrame:
    """One city extract over all days, each row with the day of the drop that carried it."""
    days = sorted((drops / "city").iterdir())
    return pd.concat([_csv(d / name).assign(drop_day=d.name) for d in days], ignore_index=True)


def _records(page: Path) -> list[dict]:
    return json.loads(page.read_text())["data"]["records"]


def _time(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text.replace("", None), format="%Y-%m-%d %H:%M:%S")


def test_a_voided_case_arrives_as_an_update_and_never_closes(tiny_drops, truth):
    voided = truth.table("cases").query("is_deleted")
    assert len(voided) > 0
    rows = _by_day(tiny_drops, "cases.csv")
    last = rows.groupby("case_no").tail(1).set_index("case_no")
    assert (last.loc[voided["case_key"], "status"] == "已作废").all()
    assert set(rows.loc[rows["status"] == "已作废", "case_no"]) == set(voided["case_key"])
    stamped = _time(last.loc[voided["case_key"], "deleted_at"])
    assert (stamped.to_numpy() == voided["deleted_at"].dt.floor("s").to_numpy()).all()
    assert (last.loc[voided["case_key"], "updated_at"] == last.loc[voided["case_key"], "deleted_at"]).all()
    steps = _by_day(tiny_drops, "case_steps.csv")
    after = steps.merge(voided, left_on="case_no", right_on="case_key")
    assert len(after) and (_time(after["occurred_at"]) <= after["deleted_at"]).all()
    assert not (after["step"] == "结案").any()


def test_a_voided_forwarded_case_and_its_12345_order_agree(tiny_drops, truth):
    """The grid voids a case 12345 forwarded: the case is 作废, its order stays 已转办 and never completes."""
    voided = truth.table("cases").query("is_deleted and case_origin == '12345转办'")
    assert len(voided) > 0
    cases = _by_day(tiny_drops, "cases.csv").groupby("case_no").tail(1).set_index("case_no")
    orders = pd.concat(
        pd.DataFrame(r for page in sorted(d.glob("hotline_orders_page_*.json")) for r in _records(page))
        for d in sorted((tiny_drops / "gov").iterdir())
    )
    last = orders.groupby("orderNo").tail(1).set_index("gridCaseNo")
    order = last.loc[voided["case_key"]]
    assert (cases.loc[voided["case_key"], "status"] == "已作废").all()
    assert (order["status"] == "已转办").all()
    assert order[["finishTime", "satisfaction", "callbackTime"]].isna().all().all()
    # and no order of a case still in the workflow says otherwise
    assert set(last.loc[last.index.notna() & ~last.index.isin(voided["case_key"]), "status"]) <= {
        "已转办",
        "已办结",
    }


def test_a_late_closure_arrives_days_after_it_happened_with_its_old_time(tiny_drops, truth):
    cases = truth.table("cases").query("origin_system == 'city' and closed")
    late = cases[cases["closure_delivered_at"].dt.date > cases["closed_at"].dt.date]
    assert len(late) > 0
    rows = _by_day(tiny_drops, "cases.csv")
    closing = rows[rows["closed_at"] != ""].groupby("case_no").head(1).set_index("case_no")
    closing = closing.loc[late["case_key"]]
    assert (
        closing["drop_day"].to_numpy() == late["closure_delivered_at"].dt.date.astype(str).to_numpy()
    ).all()
    assert (_time(closing["closed_at"]).to_numpy() == late["closed_at"].dt.floor("s").to_numpy()).all()
    assert (_time(closing["updated_at"]).dt.date.astype(str) == closing["drop_day"]).all()
    steps = _by_day(tiny_drops, "case_steps.csv")
    closed_steps = steps[steps["step"] == "结案"].set_index("case_no").loc[late["case_key"]]
    assert (closed_steps["drop_day"] == closing["drop_day"]).all()  # the step travels with the row


def test_a_merged_grid_leaves_the_snapshot_and_its_neighbour_covers_it(tiny_drops, truth):
    grids = truth.table("grids")
    merged = grids[grids["merged_into"] != ""]
    assert len(merged) > 0
    by_code = grids.set_index("grid_code")
    for folder in sorted((tiny_drops / "city").iterdir()):
        end = pd.Timestamp(folder.name) + pd.Timedelta(days=1)
        features = json.loads((folder / "grids.geojson").read_text())["features"]
        dropped = {f["properties"]["gridCode"]: f for f in features}
        gone = merged[merged["merged_at"] < end]
        assert set(dropped) == set(grids["grid_code"]) - set(gone["grid_code"]), folder.name
        for m in gone.itertuples():
            took = dropped[m.merged_into]["properties"]
            assert took["households"] == by_code.loc[m.merged_into, "households"] + m.households
            assert took["updatedAt"] == f"{m.merged_at:%Y-%m-%d %H:%M:%S}"
            ring = dropped[m.merged_into]["geometry"]["coordinates"][0]
            west = json.loads(by_code.loc[m.merged_into, "geometry"])["coordinates"][0]
            east = json.loads(m.geometry)["coordinates"][0]
            assert (ring[0][0], ring[1][0]) == (west[0][0], east[1][0])  # one rectangle over both strips
    # nothing new happens in a grid once it is merged away: its cases and meetings are its neighbour's
    cases = _by_day(tiny_drops, "cases.csv")
    cases = cases.assign(grid_code=normalise.code(cases["grid_code"], GRID)).merge(merged, on="grid_code")
    assert not (_time(cases["reported_at"].replace("未知", "")) >= cases["merged_at"]).any()
    meetings = truth.table("council_meetings").merge(merged, on="grid_code")
    assert not (meetings["recorded_at"] >= meetings["merged_at"]).any()


def test_grid_worker_snapshots_follow_who_served_where(tiny_drops, truth):
    assignments = truth.table("worker_assignments")
    assert assignments["left"].any() and assignments["worker_id"].duplicated().any()  # a leaver, a mover
    for folder in sorted((tiny_drops / "city").iterdir()):
        end = pd.Timestamp(folder.name) + pd.Timedelta(days=1)
        serving = assignments[(assignments["valid_from"] < end) & ~(assignments["valid_to"] < end)]
        workers = _csv(folder / "grid_workers.csv").drop_duplicates()  # a row the export wrote twice
        workers["grid_code"] = normalise.code(workers["grid_code"], GRID)
        assert sorted(zip(workers["worker_id"], workers["grid_code"], strict=True)) == sorted(
            zip(serving["worker_id"], serving["grid_code"], strict=True)
        ), folder.name
        stamped = _time(workers.set_index("worker_id")["updated_at"])
        since = serving.set_index("worker_id")["valid_from"].dt.floor("s")
        assert (stamped.sort_index() == since.sort_index()).all()


def test_council_meetings_are_dropped_the_day_they_are_held(tiny_drops, truth):
    meetings = truth.table("council_meetings")
    rows = _by_day(tiny_drops, "council_meetings.csv")
    assert sorted(rows["meeting_id"]) == sorted(meetings["meeting_id"]) and len(rows) > 0
    held = normalise.date(rows["held_on"]).astype(str)
    assert (held == rows["drop_day"]).all()
    assert set(rows["held_on"]) != set(held)  # some days written 2026/11/2, 2026年11月2日 or 20261102
    dirty = rows["meeting_id"].isin(meetings.query("dirty_rule != ''")["meeting_id"])
    assert dirty.any() and (rows.loc[dirty, "attendees"] == "").all()
    assert (rows.loc[~dirty, "attendees"] != "").all()
    clean = rows[~dirty]
    assert (clean["party_member_attendees"].astype(int) <= clean["attendees"].astype(int)).all()


def test_each_lifecycle_quirk_follows_its_rate(tmp_path):
    none = Messiness(
        grid_merged=0,
        late_case_closure=0,
        voided_case=0,
        voided_forwarded_case=0,
        worker_moved=0,
        worker_left=0,
        council_no_attendees=0,
    )
    generate("tiny", tmp_path, days=DAYS, start=START, mess=none)
    cases = pd.read_parquet(tmp_path / "truth" / "cases.parquet").query("origin_system == 'city'")
    assert not cases["is_deleted"].any()
    closed = cases[cases["closed"]]
    assert len(closed) and (closed["closure_delivered_at"] == closed["closed_at"]).all()
    assignments = pd.read_parquet(tmp_path / "truth" / "worker_assignments.parquet")
    assert not assignments["left"].any() and assignments["valid_to"].isna().all()
    assert (pd.read_parquet(tmp_path / "truth" / "council_meetings.parquet")["dirty_rule"] == "").all()
    assert (pd.read_parquet(tmp_path / "truth" / "grids.parquet")["merged_into"] == "").all()


@pytest.mark.parametrize("days", [1, 2])
def test_short_runs_still_show_a_move_inside_them(tmp_path, days):
    world = generate("tiny", tmp_path, days=days, start=date(2026, 11, 1))
    moved = world.workers["moved_at"].dropna()
    first_day = datetime(2026, 11, 1) + timedelta(days=min(1, days - 1))
    assert len(moved) and (moved >= first_day).all() and (moved < datetime(2026, 11, 1 + days)).all()
