"""What the simulator promises: valid ID numbers, grid codes and polygons that tile their community, workflows
in time order, extracts in their systems' exact formats, and a truth that matches the drops."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from openpyxl import load_workbook
from stdnum.cn import ric, uscc

from expectations.checks import is_valid_id_number
from simulator import people, quirks
from simulator.cases import STEPS
from simulator.generate import generate
from simulator.presets import PRESETS, Messiness
from simulator.text import csv_lines, json_number, json_records, json_string, write_csv
from tests.conftest import DAYS, START, Truth
from tests.kpi_marts import coverage_by_day

CITY_FRACTION = 0.002  # ten communities of the city preset, with its year of history: about two seconds


@pytest.fixture(scope="module")
def city_drops(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate("city", out, days=2, start=date(2026, 11, 1), fraction=CITY_FRACTION)
    return out


@pytest.fixture(params=["tiny", "city"])
def drops(request, tiny_drops, city_drops) -> Path:
    return {"tiny": tiny_drops, "city": city_drops}[request.param]


def _days(drops: Path, system: str) -> list[Path]:
    return sorted((drops / system).iterdir())


def _csv(path: Path, encoding: str = "utf-8-sig") -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def _pages(folder: Path, entity: str) -> list[dict]:
    return [
        r
        for p in sorted(folder.glob(f"{entity}_page_*.json"))
        for r in json.loads(p.read_text())["data"]["records"]
    ]


def test_vectorised_check_characters_agree_with_stdnum():
    rng = np.random.default_rng(7)
    districts = np.array([int(d) for d in PRESETS["city"].districts])[rng.integers(0, 10, 5000)]
    birth = pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 365 * 85, 5000), unit="D")
    bodies = districts * 10**11 + (birth.year * 10_000 + birth.month * 100 + birth.day).to_numpy() * 1000
    bodies += rng.integers(0, 1000, 5000)
    expected = [ric.calc_check_digit(f"{b}0") for b in bodies]
    assert people.check_characters(bodies).tolist() == expected
    assert "X" in expected  # the check value 10 is covered


def test_every_simulated_id_number_is_valid(drops):
    persons = pd.read_parquet(drops / "truth" / "persons.parquet")
    assert persons["id_number"].is_unique
    assert all(is_valid_id_number(n) for n in persons["id_number"])
    numbers = persons["id_number"].to_numpy()
    assert [ric.calc_check_digit(n) for n in numbers[:500]] == [n[-1] for n in numbers[:500]]


def test_grid_codes_are_community_code_and_four_digits(drops):
    grids = pd.read_parquet(drops / "truth" / "grids.parquet")
    assert grids["grid_code"].is_unique
    assert (grids["grid_code"].str.len() == 16).all()
    assert (grids["grid_code"].str[:12] == grids["community_code"]).all()
    assert grids["grid_code"].str[12:].str.fullmatch(r"\d{4}").all()


def _rectangles(grids: pd.DataFrame) -> pd.DataFrame:
    rings = [json.loads(g)["coordinates"][0] for g in grids["geometry"]]
    xs, ys = [np.array([p[0] for p in r]) for r in rings], [np.array([p[1] for p in r]) for r in rings]
    shoelace = [abs(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])) / 2 for x, y in zip(xs, ys, strict=True)]
    return grids.assign(
        x0=[x.min() for x in xs],
        x1=[x.max() for x in xs],
        y0=[y.min() for y in ys],
        y1=[y.max() for y in ys],
        area=shoelace,
    )


def test_grid_polygons_tile_their_community_and_communities_do_not_overlap(drops):
    boxes = _rectangles(pd.read_parquet(drops / "truth" / "grids.parquet"))
    # each polygon is its own bounding box (an axis-aligned rectangle), closed
    assert np.allclose(boxes["area"], (boxes["x1"] - boxes["x0"]) * (boxes["y1"] - boxes["y0"]))
    communities = boxes.groupby("community_code").agg(
        x0=("x0", "min"), x1=("x1", "max"), y0=("y0", "min"), y1=("y1", "max"), area=("area", "sum")
    )
    # the grids' areas add up to the community's box: no gaps, and (rectangles inside it) no overlaps
    assert np.allclose(
        communities["area"], (communities["x1"] - communities["x0"]) * (communities["y1"] - communities["y0"])
    )
    for frame in (boxes, communities.reset_index()):
        for a in range(len(frame)):
            r = frame.iloc[a]
            others = frame.drop(index=frame.index[a])
            overlap = (
                (others["x0"] < r.x1 - 1e-12)
                & (others["x1"] > r.x0 + 1e-12)
                & (others["y0"] < r.y1 - 1e-12)
                & (others["y1"] > r.y0 + 1e-12)
            )
            assert not overlap.any(), f"{r.get('grid_code', r.get('community_code'))} overlaps"


def test_every_case_workflow_is_in_time_order(drops):
    steps = pd.concat([_csv(d / "case_steps.csv") for d in _days(drops, "city")], ignore_index=True)
    steps["step_seq"] = steps["step_seq"].astype(int)
    assert not steps.duplicated(["case_no", "step_seq"]).any()  # each step is delivered once
    steps = steps.sort_values(["case_no", "step_seq"])
    same_case = steps["case_no"].eq(steps["case_no"].shift())
    assert (steps.loc[same_case, "occurred_at"] >= steps["occurred_at"].shift()[same_case]).all()
    first = steps.groupby("case_no").head(1)
    assert (first["step_seq"] == 1).all() and (first["step"] == "上报").all()
    assert set(steps["step"]) <= set(STEPS)
    closed = steps[steps["step"] == "结案"]
    assert closed["step_seq"].isin([7, 11]).all()


def test_truth_matches_the_drops(drops):
    summary = json.loads((drops / "truth" / "summary.json").read_text())
    counts = summary["counts"]
    party, gov, city = (_days(drops, s)[-1] for s in ("party", "gov", "city"))
    assert len(_csv(party / "organizations.csv", "gb18030")) == counts["party.organizations"]
    # a few snapshot rows are written twice byte for byte: exactly those the truth lists
    repeated = pd.read_parquet(drops / "truth" / "duplicate_rows.parquet").groupby("entity")["record_key"]
    members = _csv(party / "members.csv", "gb18030")
    assert (
        members.drop_duplicates()["党员编号"].is_unique
        and len(members.drop_duplicates()) == counts["party.members"]
    )
    assert sorted(members.loc[members.duplicated(), "党员编号"]) == sorted(repeated.get_group("members"))
    assert len(_pages(gov, "residents")) == counts["gov.residents"] == summary["persons"]
    assert len(json.loads((city / "grids.geojson").read_text())["features"]) == counts["city.grids"]
    workers = _csv(city / "grid_workers.csv")
    assert len(workers.drop_duplicates()) == counts["city.grid_workers"]
    assert sorted(workers.loc[workers.duplicated(), "worker_id"]) == sorted(
        repeated.get_group("grid_workers")
    )
    cases = pd.concat([_csv(d / "cases.csv") for d in _days(drops, "city")])
    assert cases["case_no"].nunique() == counts["city.cases"]
    orders = {r["orderNo"] for d in _days(drops, "gov") for r in _pages(d, "hotline_orders")}
    assert len(orders) == counts["gov.hotline_orders"]
    steps = sum(len(_csv(d / "case_steps.csv")) for d in _days(drops, "city"))
    assert steps == counts["city.case_steps"]
    assert len(_pages(gov, "resident_units")) == counts["gov.resident_units"]
    items = load_workbook(gov / "service_items.xlsx", read_only=True).active
    assert items.max_row - 3 == counts["gov.service_items"]  # below a title row and two header rows
    applications = {r["applyNo"] for d in _days(drops, "gov") for r in _pages(d, "service_applications")}
    assert len(applications) == counts["gov.service_applications"]


def test_each_organization_change_shows_in_the_extracts_from_its_day_on(drops):
    """A change made on day D (renamed, re-parented or dissolved) is in D's extract, stamped with its time, and
    not in D-1's; the values before it are what the extracts before show."""
    changes = pd.read_parquet(drops / "truth" / "organization_changes.parquet").set_index("org_code")
    assert set(changes["change"]) >= {"renamed"}
    columns = ["org_name", "org_type", "parent_org_code"]
    for folder in _days(drops, "party"):
        orgs = _csv(folder / "organizations.csv", "gb18030").set_index("组织编码")
        orgs = orgs.rename(
            columns={"组织名称": "org_name", "组织类别": "org_type", "上级组织编码": "parent_org_code"}
        )
        made = changes["changed_at"] < pd.Timestamp(folder.name) + pd.Timedelta(days=1)
        dissolved = changes.index[made & (changes["change"] == "dissolved")]
        assert not orgs.index.isin(dissolved).any()
        shown = changes.drop(dissolved)
        shown_made = made.drop(dissolved)
        new = shown[[f"new_{c}" for c in columns]].set_axis(columns, axis=1)
        expected = new.where(shown_made, shown[columns], axis=0)
        pd.testing.assert_frame_equal(orgs.loc[expected.index, columns], expected, check_names=False)
        stamped = orgs.loc[shown.index[shown_made], "更新时间"]
        assert (stamped == shown.loc[shown_made, "changed_at"].dt.strftime("%Y-%m-%d %H:%M:%S")).all()


def test_a_dissolved_committee_takes_its_branches_to_the_street(drops):
    """A community committee (社区大党委) dissolved: its branches are under the street's working committee from the
    same moment, so every organization an extract lists has its parent listed beside it."""
    orgs = pd.read_parquet(drops / "truth" / "organizations.parquet")
    closed = orgs[orgs["org_code"].str.startswith("C") & (orgs["change"] == "dissolved")].set_index(
        "org_code"
    )
    branches = orgs[orgs["parent_org_code"].isin(closed.index)]
    assert len(closed) and len(branches)
    assert (branches["change"] == "reparented").all()
    assert (branches["new_parent_org_code"] == "S" + branches["division_code"].str[:9]).all()
    moved_at = branches["parent_org_code"].map(closed["changed_at"])
    assert (branches["changed_at"] == moved_at).all()
    grid_branches = orgs[(orgs["grid_code"] != "") & (orgs["change"] == "dissolved")]
    assert len(grid_branches)  # a grid left without its branch, too
    for folder in _days(drops, "party"):
        listed = _csv(folder / "organizations.csv", "gb18030")
        parents = listed["上级组织编码"]
        assert parents[parents != ""].isin(listed["组织编码"]).all(), folder.name


def test_covering_organizations_are_dissolved_at_their_rates(tmp_path):
    """With the rates of grid branches and community committees dissolved at 0, only resident units' branches
    are dissolved, and every grid and community stays covered every day."""
    none = Messiness(grid_branch_dissolved=0, community_committee_dissolved=0)
    generate("tiny", tmp_path, days=DAYS, start=START, mess=none)
    truth = Truth(tmp_path / "truth")
    dissolved = truth.table("organization_changes").query("change == 'dissolved'")["org_code"]
    assert len(dissolved) and dissolved.str.startswith("U").all()
    coverage = coverage_by_day(truth)
    assert (coverage["grids_with_party_branch"] == coverage["grids"]).all()
    assert (coverage["communities_with_party_committee"] == coverage["communities"]).all()


def test_each_changed_application_carries_its_events_of_the_drop(drops):
    for day in _days(drops, "gov"):
        apps = pd.DataFrame(_pages(day, "service_applications"))
        cutoff = pd.Timestamp(day.name) + pd.Timedelta(days=1)
        updated = pd.to_datetime(apps["updateTime"], format="%Y-%m-%d %H:%M:%S")
        assert (updated < cutoff).all()
        finished = apps["finishTime"].notna()
        assert (apps.loc[finished, "finishTime"] == apps.loc[finished, "updateTime"]).all()
        assert (apps.loc[finished, "status"] == "已办结").all()
        assert (apps.loc[apps["acceptTime"].isna(), "status"] == "已提交").all()
        person = apps["applicantType"] == "个人"
        assert apps.loc[person, "creditCode"].isna().all() and apps.loc[~person, "residentId"].isna().all()


def test_each_changed_order_is_stamped_with_its_latest_event_of_the_drop(drops):
    for day in _days(drops, "gov"):
        orders = pd.DataFrame(_pages(day, "hotline_orders"))
        cutoff = pd.Timestamp(day.name) + pd.Timedelta(days=1)
        updated = pd.to_datetime(orders["updateTime"], format="%Y-%m-%d %H:%M:%S")
        received = pd.to_datetime(orders["receivedTime"], unit="ms") + pd.Timedelta(hours=8)
        assert (updated >= received.dt.floor("s")).all() and (updated < cutoff).all()
        finished = orders["finishTime"].notna()
        latest = orders["callbackTime"].fillna(orders["finishTime"])  # a callback comes after completion
        assert (latest[finished] == orders.loc[finished, "updateTime"]).all()
        assert orders.loc[~finished, ["satisfaction", "callbackTime"]].isna().all().all()
        results = orders.loc[finished, "satisfaction"]
        assert set(results.dropna()) <= {"满意", "基本满意", "不满意", "未回访"}
        assert (
            orders.loc[results.eq("未回访").reindex(orders.index, fill_value=False), "callbackTime"].isna()
        ).all()
        assert set(orders["status"]) <= {"受理", "办理中", "已转办", "已办结"}
        forwarded = orders["gridCaseNo"].notna()
        assert (orders.loc[forwarded & ~finished, "status"] == "已转办").all()


def test_unit_organizations_carry_their_units_credit_code(drops):
    """Where the party system records it, a unit's organization carries its unit's code, typed as ever."""
    typed = _csv(_days(drops, "party")[-1] / "organizations.csv", "gb18030").set_index("组织编码")[
        "统一社会信用代码"
    ]
    clean = typed.map(lambda code: unicodedata.normalize("NFKC", code).upper())
    truth = pd.read_parquet(drops / "truth" / "organizations.parquet").set_index("org_code")["credit_code"]
    assert (clean == truth.reindex(clean.index)).all()
    recorded = clean[clean != ""]
    assert len(recorded) and recorded.index.str.startswith("U").all() and recorded.map(uscc.is_valid).all()
    units = pd.read_parquet(drops / "truth" / "resident_units.parquet").query("dirty_rule == ''")
    assert recorded.isin(units["credit_code"]).all() and recorded.is_unique


def test_the_first_city_drop_carries_a_year_of_history_and_later_drops_a_day(city_drops):
    first, second = _days(city_drops, "city")
    reported = pd.to_datetime(_csv(first / "cases.csv")["reported_at"], errors="coerce")
    assert reported.min() < pd.Timestamp("2025-11-05")  # cases from about a year back
    steps = _csv(second / "case_steps.csv")
    changed = pd.to_datetime(steps["occurred_at"])
    assert changed.max() < pd.Timestamp("2026-11-03")
    earlier = steps[changed < pd.Timestamp("2026-11-02")]  # only closures that reached the extract late
    assert len(earlier) and set(earlier["step"]) == {"结案"}
    orgs = _csv(_days(city_drops, "party")[-1] / "organizations.csv", "gb18030")
    changes = pd.read_parquet(city_drops / "truth" / "organization_changes.parquet")
    dissolved = ((changes["change"] == "dissolved") & changes["org_code"].str.startswith("U")).sum()
    # resident units' branches, 15 per community, but those dissolved
    assert dissolved and orgs["组织编码"].str.startswith("U").sum() == 15 * 10 - dissolved


def test_fraction_scales_persons_grids_and_orders():
    city = PRESETS["city"]
    tenth = city.scaled(0.1)
    grids = len(tenth.districts) * tenth.streets_per_district * tenth.communities_per_street
    assert grids == pytest.approx(0.1 * len(city.districts) * 10 * 15, rel=0.05)
    assert tenth.persons == 750_000 and tenth.hotline_orders_per_day == 400
    assert city.scaled(1.0) == city
    with pytest.raises(ValueError, match="fraction"):
        city.scaled(0)


TRICKY = ["plain", "中文,逗号", 'say "hi"', "two\nlines", "", "cr\rhere", "x\\y"]


@pytest.mark.parametrize("encoding, terminator", [("utf-8", "\n"), ("gbk", "\r\n")])
def test_csv_text_is_what_csv_writer_writes(tmp_path, encoding, terminator):
    rows = [[v, str(i), "甲"] for i, v in enumerate(TRICKY)]
    expected = io.StringIO(newline="")
    writer = csv.writer(expected, lineterminator=terminator)
    writer.writerow(["名称", "n,o", "c"])
    writer.writerows(rows)
    columns = [pa.array([r[i] for r in rows]) for i in range(3)]
    chunks = [
        csv_lines([c.slice(0, 3) for c in columns], terminator),
        csv_lines([c.slice(3) for c in columns], terminator),
    ]
    write_csv(tmp_path / "x.csv", ["名称", "n,o", "c"], chunks, encoding, terminator)
    assert (tmp_path / "x.csv").read_bytes() == expected.getvalue().encode(encoding)


def test_json_records_are_what_json_dumps_writes():
    values = TRICKY[:4] + ["x\\y", None]
    numbers = [0, 1793501757516, None, -5, 7, 12]
    records = json_records({"text": json_string(pa.array(values)), "n": json_number(pa.array(numbers))})
    expected = [
        json.dumps({"text": v, "n": n}, ensure_ascii=False) for v, n in zip(values, numbers, strict=True)
    ]
    assert records.to_pylist() == expected


def test_quirks_keep_their_shapes():
    when = np.array(["2026-03-04", "2026-11-21", "1999-12-31", "2000-01-02"], dtype="datetime64[D]")
    assert quirks.date_text(when, np.arange(4)).to_pylist() == [
        "2026-03-04",
        "2026/11/21",
        "1999年12月31日",
        "20000102",
    ]
    phones = quirks.phone_text(pa.array(["13800001234"] * 3), np.arange(3)).to_pylist()
    assert phones == ["13800001234", "+86 138 0000 1234", "138-0000-1234"]
    codes = quirks.grid_code_text(pa.array(["2102020010030012"] * 3), np.arange(3)).to_pylist()
    assert codes == ["2102020010030012", "210202-001-003-0012", "210202-1-3-12"]
    assert quirks.masked_id(pa.array(["21020219900101123X"])).to_pylist() == ["210202********123X"]
    assert quirks.fullwidth(pa.array(["1X"])).to_pylist() == ["１Ｘ"]
    bodies = np.arange(21020219900101100, 21020219900101160)
    ids = [f"{b}{c}" for b, c in zip(bodies, people.check_characters(bodies), strict=True)]
    wrong = quirks.wrong_check_digit(pa.array(ids)).to_pylist()
    assert all(
        w[:17] == i[:17] and w[-1] != i[-1] and not is_valid_id_number(w)
        for w, i in zip(wrong, ids, strict=True)
    )
    stamps = np.array(["2026-11-01T08:03:04.999", "NaT"], dtype="datetime64[ms]")
    assert quirks.timestamp_text(stamps).to_pylist() == ["2026-11-01 08:03:04", ""]
