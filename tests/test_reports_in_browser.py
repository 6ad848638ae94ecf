"""The reviewer's pages as a real browser renders them: a quarantined rule shows on the quality summary and,
following its link, as a failed expectation on that night's Data Docs page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from tests.conftest import START
from tests.headless_chromium import rendered_dom


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])


def test_a_quarantined_rule_is_visible_on_the_summary_and_its_data_docs_page(nightly_run, truth, html_tables):
    report = nightly_run.paths.quality_reports / f"{START.isoformat()}.html"
    summary = json.loads(report.with_suffix(".json").read_text())
    members = next(e for e in summary["entities"] if e["source_entity"] == "party.members")
    dirty_rules = set(
        truth.table("person_records").query("entity == 'members' and dirty_rule != ''")["dirty_rule"]
    )
    assert members["rows_quarantined"] > 0

    dom = rendered_dom(report.as_uri())
    by_entity, not_passed, *_ = html_tables(dom)
    header = by_entity[0]
    row = next(r for r in by_entity[1:] if r[0] == "party.members")
    assert row[header.index("结论 verdict")] == "warn"
    assert row[header.index("隔离 quarantined")] == str(members["rows_quarantined"])
    caught = [r for r in not_passed[1:] if r[0] == "party.members"]
    assert {r[1] for r in caught} == dirty_rules
    assert all(r[2:4] == ["warning", "warn"] for r in caught)
    assert sum(int(r[4]) for r in caught) >= members["rows_quarantined"]

    parser = _Links()
    parser.feed(dom)
    assert members["data_docs"] in parser.hrefs
    page = (report.parent / members["data_docs"]).resolve()
    docs = rendered_dom(page.as_uri())
    assert re.search(r"Status:\s*</strong>\s*Failed|Status:\s*Failed", re.sub(r"<[^>]+>", " ", docs))
    failed = [cell for cell in re.split(r"<tr[ >]", docs) if 'class="fas fa-times text-danger"' in cell]
    assert failed, "no failed expectation is marked on the Data Docs page"
    unexpected = sum(int(n) for cell in failed for n in re.findall(r"(\d+) unexpected values? found", cell))
    assert unexpected >= members["rows_quarantined"]
