"""Resident units' credit codes, the working-day deadline of service applications, and their simulation."""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest
from stdnum.cn import uscc

from expectations.suites import expectations_for
from ingest import normalise
from ingest.contracts import get
from simulator import quirks as q
from simulator.services import UNIT_TYPES, credit_codes, wrong_check_character
from tests.conftest import START

MACROS = Path(__file__).parent.parent / "dbt_project" / "macros" / "service_kpis.sql"


def _codes(n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(7)
    prefixes = np.array(list(UNIT_TYPES.values()))[rng.integers(0, len(UNIT_TYPES), n)]
    return credit_codes(rng, prefixes, np.full(n, "210202"))


def test_vectorised_credit_codes_are_valid_for_stdnum_and_distinct():
    codes = _codes()
    assert all(uscc.is_valid(c) for c in codes) and len(set(codes)) == len(codes)
    assert {c[2:8] for c in codes} == {"210202"}


def test_a_wrong_check_character_is_caught_and_typing_quirks_are_repaired():
    codes = pd.Series(_codes(500))
    assert not any(uscc.is_valid(c) for c in wrong_check_character(codes).to_pylist())
    column = get("gov", "resident_units").column("credit_code")
    typed = pd.Series(q.fullwidth(pd.Series(codes).str.lower()).to_pylist())
    assert (normalise.column(column, typed) == codes).all()


def test_credit_codes_get_the_checksum_rule():
    rules = {e.meta["rule"] for e in expectations_for(get("gov", "resident_units"), START)}
    assert "credit_code:valid_credit_code" in rules
    rules = {e.meta["rule"] for e in expectations_for(get("gov", "service_applications"), START)}
    assert {"credit_code:valid_credit_code", "id_number:valid_id_number", "channel:in_set"} <= rules


def test_the_working_day_deadline_macro_agrees_with_numpy():
    """Every acceptance weekday (and weekend) × every promise 0..25: the SQL the marts use gives the day numpy
    counts (Monday-Friday business days, the acceptance day itself for a promise of 0)."""
    macro = jinja2.Environment().from_string(MACROS.read_text()).module.working_days_after
    days = pd.date_range("2026-11-02", periods=14, freq="D")
    cases = pd.DataFrame([(d, n) for d in days for n in range(26)], columns=["day", "n"])
    got = duckdb.sql(f"select {macro('day', 'n')} as deadline from cases").df()["deadline"]
    day = cases["day"].to_numpy().astype("datetime64[D]")
    expected = np.maximum(np.busday_offset(day, cases["n"].to_numpy(), roll="backward"), day)
    assert (got.to_numpy().astype("datetime64[D]") == expected).all()
    saturday = cases[(cases["day"] == "2026-11-07") & (cases["n"] == 1)].index[0]
    assert got[saturday] == pd.Timestamp("2026-11-09")  # Saturday + 1 working day is Monday


@pytest.fixture(scope="module")
def service_truth(truth):
    return {name: truth.table(name) for name in ("resident_units", "service_items", "service_applications")}


def test_the_truth_records_each_dirty_kind(service_truth):
    units, items, apps = service_truth.values()
    assert set(units["dirty_rule"]) == {"", "credit_code:valid_credit_code"}
    assert set(items["dirty_rule"]) == {"", "promised_working_days:not_null"}
    assert set(apps["dirty_rule"]) == {"", "channel:in_set"}
    assert units["unit_index"].duplicated().any()  # a unit registered twice
    assert units["credit_code"].map(uscc.is_valid).all()  # the truth holds the real, valid code


def test_applications_happen_in_order_and_point_at_listed_items_and_clean_units(service_truth):
    units, items, apps = service_truth.values()
    assert (apps["accepted_at"].dropna() >= apps.loc[apps["accepted_at"].notna(), "submitted_at"]).all()
    done = apps["completed_at"].notna()
    assert (apps.loc[done, "completed_at"] > apps.loc[done, "accepted_at"]).all()
    assert set(apps["item_code"]) <= set(items["item_code"])
    clean = set(units.loc[units["dirty_rule"] == "", "credit_code"])
    by_unit = apps["applicant_type"] == "单位"
    assert by_unit.any() and set(apps.loc[by_unit, "credit_code"]) <= clean
    assert apps.loc[~by_unit, "resident_id"].notna().all()
