"""Drift against the last accepted nights, on real batches: a night that sends half the workers, all without
a phone, is flagged in its quality summary; the steady nights before it are not."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from expectations import drift
from expectations.report import write_report
from expectations.validate import validate
from ingest import manifest
from ingest.contracts import get
from ingest.landing import land
from tests.conftest import START


def test_a_night_with_half_the_rows_and_no_phones_shows_drift(home, own_drops, html_tables):
    workers = get("city", "grid_workers")
    night3 = START + timedelta(days=2)
    path = own_drops / "city" / night3.isoformat() / "grid_workers.csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    header, body = (
        rows[0],
        [list(row) for row in dict.fromkeys(map(tuple, rows[1:]))],
    )  # exact repeats dropped
    phone = header.index("phone")
    kept = body[: len(body) // 2]
    for row in kept:
        row[phone] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *kept])
    path.write_bytes(out.getvalue().encode("utf-8-sig"))

    for night in (START, START + timedelta(days=1), night3):
        land(workers, night, home)
        validate(workers, night, home)

    def drift_of(night):
        summary = json.loads(write_report(night, home).json.read_text())
        return next(e for e in summary["entities"] if e["source_entity"] == "city.grid_workers")

    steady = drift_of(START + timedelta(days=1))  # a worker may leave overnight: information, no warning
    assert [d for d in steady["drift"] if d["severity"] == "warning"] == []
    entity = drift_of(night3)
    found = {d["measure"]: d for d in entity["drift"]}
    assert found["row_count"]["severity"] == "warning"
    assert found["row_count"]["current"] == len(kept)
    assert found["row_count"]["change"] <= -45
    assert found["null_rate:phone"]["severity"] == "warning"
    assert (found["null_rate:phone"]["current"], found["null_rate:phone"]["baseline"]) == (100.0, 0.0)
    assert entity["verdict"] == "warn"

    tables = html_tables(write_report(night3, home).html.read_text())
    drift_table = next(
        t for t in tables if t[0][:3] == ["来源实体 source entity", "指标 measure", "级别 severity"]
    )
    assert ["city.grid_workers", "null_rate:phone", "warning", "100.0", "0.0", "+100.0 pts"] in drift_table[
        1:
    ]


def _accepted(entity: str, nights: list[date]) -> list[manifest.Batch]:
    return [
        manifest.Batch(f"{entity}-{n:%Y%m%d}", "city", entity, n.isoformat(), 1, [], "", "accepted")
        for n in nights
    ]


def test_an_incremental_extract_is_compared_with_the_same_weekday_once_there_are_enough():
    cases = get("city", "cases")
    monday = date(2026, 11, 30)
    history = [monday - timedelta(days=n) for n in range(35, 0, -1)]  # five weeks of nights before it
    chosen = drift.baseline_batches(cases, monday, _accepted("cases", history))
    assert {date.fromisoformat(b.load_date).weekday() for b in chosen} == {monday.weekday()}
    assert len(chosen) == 5
    # a week of history has one Monday only: the last nights, whatever their weekday
    chosen = drift.baseline_batches(cases, monday, _accepted("cases", history[-7:]))
    assert [b.load_date for b in chosen] == [n.isoformat() for n in history[-7:]]


def test_a_snapshot_is_compared_with_its_last_nights():
    workers = get("city", "grid_workers")
    history = [START + timedelta(days=n) for n in range(10)]
    chosen = drift.baseline_batches(workers, START + timedelta(days=10), _accepted("grid_workers", history))
    assert [b.load_date for b in chosen] == [n.isoformat() for n in history[-drift.SNAPSHOT_NIGHTS :]]


def test_a_shrinking_snapshot_alarms_where_a_quiet_sunday_of_cases_does_not():
    workers, cases = get("city", "grid_workers"), get("city", "cases")
    assert drift.row_count_severity(workers, 70, 100) == "warning"  # 30 % of the grid workers gone overnight
    assert drift.row_count_severity(workers, 97, 100) is None
    assert drift.row_count_severity(cases, 50, 100) == "info"  # a Sunday with half the cases
    assert drift.row_count_severity(cases, 180, 100) is None  # a Monday catching up
    assert drift.row_count_severity(cases, 30, 100) == "warning"  # a source sending a third of its changes
    assert drift.row_count_severity(cases, 0, 100) == "warning"


def test_null_shares_come_from_the_files_statistics_and_an_empty_file_has_none(tmp_path):
    table = pa.table({"phone": ["138", None, None, "139"], "_raw_record": ["a", "b", "c", "d"]})
    pq.write_table(table, tmp_path / "four.parquet", row_group_size=3)
    assert drift.null_shares(tmp_path / "four.parquet") == (4, {"phone": 50.0})
    pq.write_table(table.slice(0, 0), tmp_path / "empty.parquet")
    assert drift.null_shares(tmp_path / "empty.parquet") == (0, {"phone": 0.0})
    pq.write_table(table, tmp_path / "bare.parquet", write_statistics=False)
    with pytest.raises(ValueError, match="bare.parquet: column phone was written without its null count"):
        drift.null_shares(tmp_path / "bare.parquet")
