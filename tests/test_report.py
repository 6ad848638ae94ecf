"""The nightly quality summary and the Data Docs kept by night, on batches landed and validated for real."""

from __future__ import annotations

import csv
import json
import re
from datetime import date

import pytest

from expectations.report import write_report
from expectations.validate import BatchRejected, data_docs_index, validate
from ingest.contracts import get
from ingest.landing import land

DAY1 = date(2026, 11, 1)


def test_a_rejected_batch_shows_as_fail_with_the_rule_that_rejected_it(home, own_drops, html_tables):
    path = own_drops / "city" / DAY1.isoformat() / "grid_workers.csv"
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    copy = lines[1].rsplit(",", 1)[0] + ",2026-10-31 09:00:00"  # the first worker twice, changed later
    path.write_text("\n".join([*lines, copy]) + "\n")
    workers, members = get("city", "grid_workers"), get("party", "members")
    for referenced in (get("city", "grids"), get("party", "organizations")):  # what workers and members name
        land(referenced, DAY1, home)
        validate(referenced, DAY1, home)
    land(workers, DAY1, home)
    with pytest.raises(BatchRejected):
        validate(workers, DAY1, home)
    land(members, DAY1, home)
    validate(members, DAY1, home)

    report = write_report(DAY1, home)

    summary = json.loads(report.json.read_text())
    assert summary["verdict"] == "fail"
    entities = {e["source_entity"]: e for e in summary["entities"]}
    rejected = entities["city.grid_workers"]
    assert (rejected["status"], rejected["verdict"]) == ("rejected", "fail")
    assert [r for r in rejected["rules"] if r["verdict"] != "pass"] == [
        {
            "rule": "worker_id:unique",
            "severity": "critical",
            "verdict": "fail",
            "unexpected_count": 2,
            "error": "",
        }
    ]
    assert rejected["rule_counts"]["pass"] == len(rejected["rules"]) - 1
    assert entities["party.members"]["verdict"] == "warn"  # its dirty rows were quarantined, the rest loaded
    copies = entities["party.members"]["duplicates_dropped"]  # the export wrote a member twice, byte for byte
    assert copies >= 1 and summary["totals"]["duplicates_dropped"] >= copies
    assert entities["gov.residents"]["status"] == "missing" and entities["gov.residents"]["verdict"] == "fail"

    by_entity, failed_rules = html_tables(report.html.read_text())
    header = by_entity[0]
    row = next(r for r in by_entity[1:] if r[0] == "city.grid_workers")
    assert row[header.index("状态 status")] == "rejected"
    assert row[header.index("结论 verdict")] == "fail"
    members_row = next(r for r in by_entity[1:] if r[0] == "party.members")
    assert members_row[header.index("重复行已去除 duplicates dropped")] == str(copies)
    assert ["city.grid_workers", "worker_id:unique", "critical", "fail", "2", ""] in failed_rules[1:]

    # the summary links into that night's own Data Docs, onto the rejected batch's validation page
    page = report.html.parent / rejected["data_docs"]
    assert page.is_file() and rejected["batch_id"] in page.parts
    assert (report.html.parent / summary["data_docs"]).is_file()
    assert f'href="{DAY1.isoformat()}/index.html"' in data_docs_index(home).read_text()


def test_schema_drift_shows_per_entity_added_missing_and_retyped_columns(home, own_drops, html_tables):
    day2 = date(2026, 11, 2)
    orders, members, cases = get("gov", "hotline_orders"), get("party", "members"), get("city", "cases")
    land(orders, DAY1, home)
    for page in (own_drops / "gov" / day2.isoformat()).glob("hotline_orders_page_*.json"):
        page.write_text(re.sub(r'"receivedTime": (\d+)', r'"receivedTime": "\1"', page.read_text()))
    members_csv = own_drops / "party" / day2.isoformat() / "members.csv"
    lines = members_csv.read_bytes().decode("gbk").split("\r\n")
    members_csv.write_bytes(
        "\r\n".join([lines[0] + ",备注"] + [line + ",x" if line else line for line in lines[1:]]).encode(
            "gbk"
        )
    )
    cases_csv = own_drops / "city" / day2.isoformat() / "cases.csv"
    with open(cases_csv, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    at = rows[0].index("item")
    with open(cases_csv, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([r[:at] + r[at + 1 :] for r in rows])
    for contract in (orders, members, cases):
        land(contract, day2, home)

    report = write_report(day2, home)

    drift = {e["source_entity"]: e["schema_drift"] for e in json.loads(report.json.read_text())["entities"]}
    assert drift["gov.hotline_orders"] == {
        "added": [],
        "missing": [],
        "type_changes": {"receivedTime": "UBIGINT → VARCHAR"},
    }
    assert drift["party.members"] == {"added": ["备注"], "missing": [], "type_changes": {}}
    assert drift["city.cases"] == {"added": [], "missing": ["item"], "type_changes": {}}
    assert drift["gov.residents"] == {"added": [], "missing": [], "type_changes": {}}

    by_entity = html_tables(report.html.read_text())[0]
    column = by_entity[0].index("结构漂移 schema drift")
    cells = {row[0]: row[column] for row in by_entity[1:]}
    assert "type changed: receivedTime UBIGINT → VARCHAR" in cells["gov.hotline_orders"]
    assert "added: 备注" in cells["party.members"] and "missing: item" in cells["city.cases"]
    assert cells["gov.residents"] == "—"
