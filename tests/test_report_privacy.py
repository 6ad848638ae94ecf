"""No personal data in clear in what reviewers read: every HTML and JSON report file of a night, scanned for
the simulator's ID numbers, phones and names, while the quarantine keeps the raw values."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from expectations.masking import mask, mask_id_number, mask_phone, mask_raw_record
from ingest.contracts import get
from tests.conftest import START
from warehouse.night import run_night


@pytest.mark.parametrize(
    ("column_type", "value", "masked"),
    [
        ("id_number", "21020219670508825X", "210202********825X"),
        ("id_number", "210202670508825", "210202*****8825"),  # 15-digit legacy number
        ("id_number", "210202********825X", "210202********825X"),  # masked already: unchanged
        ("phone", "+8613800000000", "+86138****0000"),
        ("phone", "13800000000", "138****0000"),
        ("name", "张三", "张*"),
        ("name", "阿依古丽·买买提", "阿*******"),
        ("text", "新华社区", "新华社区"),  # not personal
        ("phone", None, None),
    ],
)
def test_masks_keep_the_kind_of_value_and_hide_the_person(column_type, value, masked):
    assert mask(column_type, value) == masked
    if value:
        assert mask(column_type, mask(column_type, value)) == masked


def test_masking_a_raw_record_keeps_its_other_fields():
    raw = json.dumps(
        {
            "党员编号": "DY1",
            "姓名": "林华",
            "公民身份号码": "210202196705088253",
            "手机号码": "+86 139 3303 1397",
        }
    )
    masked = json.loads(mask_raw_record(get("party", "members"), raw))
    assert masked == {
        "党员编号": "DY1",
        "姓名": "林*",
        "公民身份号码": mask_id_number("210202196705088253"),
        "手机号码": mask_phone("+86 139 3303 1397"),
    }
    assert "3303" not in masked["手机号码"]


def _readable(text: str) -> str:
    """Full-width digits as ASCII, and separators inside numbers dropped (``+86 139 3303 1397``)."""
    return re.sub(r"(?<=\d)[\s\-](?=\d)", "", unicodedata.normalize("NFKC", text))


def clear_personal_data(text: str, id_bodies: set[str], phones: set[str], names: re.Pattern) -> set[str]:
    """The truth's ID numbers (by their first 17 characters, so a wrong check character counts too), phones
    and names that ``text`` holds in clear."""
    text = _readable(text)
    found = set()
    for run in re.findall(r"\d{11,}", text):
        found |= {run[i : i + 17] for i in range(len(run) - 16)} & id_bodies
        found |= {run[i : i + 11] for i in range(len(run) - 10)} & phones
    return found | set(names.findall(text))


@pytest.fixture
def night_with_rejected_members(home, own_drops) -> Path:
    """The first night with a member delivered twice, the copies differing in their last column (exact copies
    would be dropped): the members batch is rejected (its message quotes sample rows) and the rest loads,
    quarantining the dirty rows (the Data Docs list their unexpected values)."""
    path = own_drops / "party" / START.isoformat() / "members.csv"
    lines = path.read_bytes().decode("gbk").splitlines()
    differing = lines[1].rsplit(",", 1)[0] + ",2026-01-01 00:00:00"
    path.write_bytes("\r\n".join([*lines, differing]).encode("gbk") + b"\r\n")
    run_night(START, home)
    return home.reports


def test_no_report_holds_an_id_number_phone_or_name_in_clear(night_with_rejected_members, home, truth):
    persons = truth.table("persons")
    id_bodies = {i[:17] for i in persons["id_number"]}
    phones = set(persons["phone"].dropna().str.removeprefix("+86"))
    names = re.compile(
        "|".join(sorted((n for n in persons["full_name"] if len(n) >= 3), key=len, reverse=True))
    )
    scanned = [
        p for p in night_with_rejected_members.rglob("*") if p.suffix in (".html", ".json") and p.is_file()
    ]
    kinds = {p.relative_to(night_with_rejected_members).parts[0] for p in scanned}
    assert {"quality", "data_docs", "run_summary"} <= kinds
    for page in scanned:
        leaked = clear_personal_data(page.read_text(errors="replace"), id_bodies, phones, names)
        assert not leaked, f"{page} holds personal data in clear: {sorted(leaked)[:5]}"

    # the scanner is not blind: the raw values it looks for are there, in the internal quarantine and landing
    quarantined = pd.read_parquet(
        home.quarantine / "city" / "cases"
    )  # members were rejected, not quarantined
    landed = pd.read_parquet(home.landing_parquet / "party" / "members")
    raw = " ".join(landed["_raw"]) + " ".join(quarantined["_raw"])
    assert clear_personal_data(raw, id_bodies, phones, names)


def test_reviewers_still_see_what_kind_of_wrong(night_with_rejected_members, home, truth):
    summary = json.loads((home.quality_reports / f"{START.isoformat()}.json").read_text())
    members = next(e for e in summary["entities"] if e["source_entity"] == "party.members")
    assert members["status"] == "rejected" and "rule member_id:unique failed on 2 of" in members["message"]
    assert re.search(r"members\.csv row \d+: .*\"公民身份号码\": \"\d{6}\*{8}[\dXx]{4}\"", members["message"])

    # the ID number with a wrong check character shows on the Data Docs masked, its check character visible
    dirty = truth.table("person_records").query(
        "entity == 'members' and dirty_rule == 'id_number:valid_id_number'"
    )
    landed = pd.read_parquet(home.landing_parquet / "party" / "members")
    wrong = landed.loc[landed["member_id"].isin(dirty["record_key"]), "id_number"]
    pages = " ".join(p.read_text() for p in (home.data_docs / START.isoformat()).rglob("*.html"))
    assert len(wrong) and all(mask_id_number(v) in pages for v in wrong)
