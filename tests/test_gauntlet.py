"""The bad-input gauntlet: a clean first night, then a second night with one kind of damage, for each kind.

Every kind is declared once in ``OUTCOMES`` with what must happen to the damaged entity's batch:
``repaired`` (accepted, and the loaded rows equal those of the undamaged extract), ``quarantined`` (the
damaged records, and only they, go to quarantine with the rule), ``rejected`` (a critical rule refuses the
batch) or ``failed`` (the extract cannot be read; the message names file, row and rule). A few kinds run the
whole night, build and publish included; the rest stop after validation, which is where they are decided.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingest import manifest
from ingest.config import Paths, partition
from ingest.contracts import get
from simulator.mutations import KINDS, mutate
from tests.conftest import START, table_fingerprints
from warehouse.night import load_night, run_night

NIGHT1, NIGHT2 = START, START + timedelta(days=1)
# Snapshot entities and the dbt snapshot keeping their history (SCD2).
SNAPSHOTS = {"city.grid_workers": "grid_worker_assignments", "city.grids": "grids"}


@dataclass(frozen=True)
class Outcome:
    status: str  # repaired | quarantined | rejected | failed | unpublished
    rule: str = ""  # regex the batch's message (or the rule of every damaged row) must match
    full_night: bool = False  # also build and publish
    precision: str | None = None  # the finest time unit the damaged extract still carries
    added: tuple[
        str, ...
    ] = ()  # schema drift the batch reports: columns sent that the contract does not know
    missing: tuple[str, ...] = ()  # and optional columns not sent, which load as null
    duplicates: int = 0  # exact copies of a row dropped at landing


OUTCOMES: dict[str, Outcome] = {
    "utf16_excel_text": Outcome("repaired"),
    "utf8_bom_instead_of_gbk": Outcome("repaired"),
    "bom_missing": Outcome("repaired"),
    "gbk_instead_of_utf8": Outcome("repaired"),
    "mixed_encoding": Outcome("failed", r"members\.csv: mixed encodings: line \d+ is UTF-8", full_night=True),
    "geojson_with_bom": Outcome("repaired"),
    "truncated_csv": Outcome("failed", r"cases\.csv, row \d+: has \d+ fields, the header has 14"),
    "truncated_json_page": Outcome("failed", r"residents_page_0002\.json.*: invalid JSON"),
    "empty_file": Outcome("failed", r"case_steps\.csv: file is empty"),
    "header_only_snapshot": Outcome("rejected", r"rule table:not_empty failed"),
    # a grid-worker snapshot refused, not read as every worker having left (the SCD2 history is checked)
    "header_only_worker_snapshot": Outcome("rejected", r"rule table:not_empty failed", full_night=True),
    "truncated_worker_snapshot": Outcome(
        "failed", r"grid_workers\.csv, row \d+: has \d+ fields, the header has 6", full_night=True
    ),
    "missing_column": Outcome("repaired", missing=("item",)),
    "renamed_column": Outcome("failed", r"missing column\(s\) \['phone'\].*unknown column\(s\) \['mobile'\]"),
    "extra_column": Outcome("repaired", added=("remark",)),
    "reordered_columns": Outcome("repaired"),
    "column_type_change": Outcome("quarantined", "households:parsable"),
    "duplicate_rows": Outcome("repaired", duplicates=1),
    "differing_duplicate_rows": Outcome(
        "rejected", r"rule case_no\+step_seq:unique failed on 2 of .*case_steps\.csv row"
    ),
    "duplicate_keys": Outcome(
        "rejected", r"rule case_no:unique failed on 2 of .*cases\.csv row", full_night=True
    ),
    "id_15_digit": Outcome("repaired", full_night=True),
    "bad_check_character": Outcome("quarantined", "id_number:valid_id_number"),
    "lowercase_x": Outcome("repaired"),
    "fullwidth_digits": Outcome("repaired"),
    "masked_id_where_full_required": Outcome("quarantined", "id_number:valid_id_number"),
    "stray_line_breaks": Outcome("repaired"),
    "unbalanced_quote": Outcome("failed", r"cases\.csv, row \d+: .*quote"),
    "wrong_delimiter": Outcome("repaired"),
    "unparsable_dates": Outcome("quarantined", "birth_date:parsable"),
    "future_dates": Outcome("quarantined", "reported_at:not_in_future"),
    "excel_serial_dates": Outcome("repaired"),
    "epoch_seconds": Outcome("repaired", precision="s"),
    "phone_variants": Outcome("repaired"),
    "grid_code_separators": Outcome("repaired"),
    "grid_code_missing_zeros": Outcome("quarantined", "grid_code:code_width"),
    "local_grid_name": Outcome("quarantined", "grid_code:code_width"),
    "unknown_grid": Outcome("quarantined", "grid_code:references"),
    "json_page_missing": Outcome("failed", r"JSON pages \[3\] of 6 are missing"),
    "json_pages_disagree": Outcome(
        "failed", r"the pages disagree on pages: \{'residents_page_0001\.json': 5"
    ),
    "json_total_mismatch": Outcome(
        "failed", r"gov/2026-11-02: the pages declare a total of (\d+) records but hold (?!\1)\d"
    ),
    "invalid_json": Outcome("failed", r"hotline_orders_page_0001\.json, row 1: invalid JSON"),
    "json_error_envelope": Outcome(
        "failed", r"hotline_orders_page_0001\.json: the API answered an error: code 500, '系统繁忙"
    ),
    "invalid_polygon": Outcome("quarantined", "geometry:valid_polygon"),
    "case_steps_shuffled": Outcome("repaired"),
    "case_step_before_previous": Outcome("quarantined", "occurred_at:in_step_order"),
    "previous_day_file": Outcome("failed", r"same bytes as .* of 2026-11-01"),
}


def test_every_mutation_kind_has_a_declared_outcome():
    assert set(OUTCOMES) == set(KINDS) and len(KINDS) >= 25


def _use(monkeypatch_or_env, home: Path, drops: Path) -> Paths:
    monkeypatch_or_env.setenv("GRIDFUSION_HOME", str(home))
    monkeypatch_or_env.setenv("GRIDFUSION_DROPS", str(drops))
    return Paths.from_env()


@pytest.fixture(scope="module")
def first_night(tmp_path_factory, tiny_drops) -> Paths:
    """A home after one clean, published night."""
    with pytest.MonkeyPatch.context() as env:
        paths = _use(env, tmp_path_factory.mktemp("gauntlet") / "home", tiny_drops)
        run_night(NIGHT1, paths)
    assert paths.warehouse.exists()
    return paths


def _accepted(paths: Paths, key: str) -> pd.DataFrame:
    """The entity's rows as loaded by the latest accepted batch up to night 2, data columns only."""
    contract = get(*key.split("."))
    folder = paths.accepted / contract.system / contract.entity
    latest = sorted(folder.glob("load_date=*/*.parquet"))[-1]
    frame = pd.read_parquet(latest)[[c.name for c in contract.columns]]
    return frame.sort_values(list(contract.primary_key)).reset_index(drop=True)


@pytest.fixture(scope="module")
def clean_second_night(tmp_path_factory, first_night, tiny_drops) -> Paths:
    """The second night undamaged, landed and validated: what every repair must reproduce."""
    home = tmp_path_factory.mktemp("gauntlet-clean") / "home"
    shutil.copytree(first_night.home, home)
    with pytest.MonkeyPatch.context() as env:
        paths = _use(env, home, tiny_drops)
        assert load_night(NIGHT2, paths) == {}
    return paths


def _quarantined(paths: Paths, key: str) -> pd.DataFrame:
    """The entity's rows quarantined on night 2."""
    contract = get(*key.split("."))
    folder = partition(paths.quarantine, contract, NIGHT2)
    found = [pd.read_parquet(p) for p in folder.glob("*.parquet")]
    return pd.concat(found) if found else pd.DataFrame(columns=[*contract.primary_key, "_rules"])


def _night1_files(paths: Paths) -> dict[str, str]:
    return {
        str(p.relative_to(paths.home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(paths.home.rglob("*"))
        if p.is_file() and f"load_date={NIGHT1}" in p.parts
    }


def _record_keys(frame: pd.DataFrame, key: str) -> pd.Series:
    """Each row's primary key as text, ``+``-joined when compound (as the mutations report them)."""
    pk = list(get(*key.split(".")).primary_key)
    return frame[pk].astype(str).agg("+".join, axis=1) if len(frame) else pd.Series([], dtype=str)


def _floor(frame: pd.DataFrame, unit: str | None) -> pd.DataFrame:
    if unit is None:
        return frame
    return frame.apply(lambda c: c.dt.floor(unit) if pd.api.types.is_datetime64_any_dtype(c) else c)


@pytest.mark.parametrize("kind", sorted(OUTCOMES))
def test_gauntlet(kind, tmp_path, tiny_drops, first_night, clean_second_night, monkeypatch):
    expected, (key, _) = OUTCOMES[kind], KINDS[kind]
    contract = get(*key.split("."))
    drops, home = tmp_path / "drops", tmp_path / "home"
    shutil.copytree(tiny_drops, drops, ignore=shutil.ignore_patterns("truth"))
    shutil.copytree(first_night.home, home)
    paths = _use(monkeypatch, home, drops)
    before = _night1_files(paths)
    published_before = table_fingerprints(paths.warehouse)
    touched = mutate(drops, NIGHT2, kind)

    if expected.full_night:
        summary = run_night(NIGHT2, paths)
    else:
        load_night(NIGHT2, paths, (contract,))
    batch = manifest.of_night(paths.manifest, contract.system, contract.entity, NIGHT2)
    assert batch is not None
    message = batch.message

    # Row accounting: rows read = loaded + quarantined + exact copies dropped, or all refused with the batch.
    if expected.status in ("repaired", "quarantined", "unpublished"):
        # Exact repeats dropped: the export's own (as on the undamaged night) and those the damage added.
        undamaged = manifest.of_night(clean_second_night.manifest, contract.system, contract.entity, NIGHT2)
        assert batch.duplicates_dropped == undamaged.duplicates_dropped + expected.duplicates, message
    if batch.status == "accepted":
        assert batch.rows_read == batch.rows_loaded + batch.rows_quarantined + batch.duplicates_dropped
    else:
        assert batch.rows_loaded == batch.rows_quarantined == 0
    # Nothing earlier is lost: the first night's files are as they were.
    assert _night1_files(paths) == before

    clean = _accepted(clean_second_night, key)
    assert (batch.extra_columns, batch.missing_columns) == (list(expected.added), list(expected.missing))
    for column in (c.name for c in contract.columns if c.source in expected.missing):
        clean[column] = clean[column].where(pd.Series(False, index=clean.index))  # null, as its type has it
    if expected.status in ("repaired", "quarantined", "unpublished"):
        assert batch.status == "accepted", message
        loaded = _accepted(paths, key)
        damaged = set() if expected.status == "repaired" else set(touched)
        held = _quarantined(paths, key)
        held = held[~_record_keys(held, key).isin(_record_keys(_quarantined(clean_second_night, key), key))]
        if expected.status == "quarantined":
            assert set(_record_keys(held, key)) == damaged, held
            assert all(re.search(expected.rule, rules) for rules in held["_rules"]), held["_rules"].tolist()
        else:
            assert held.empty, held
        keep = ~_record_keys(clean, key).isin(damaged)
        loaded = loaded[~_record_keys(loaded, key).isin(damaged)].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            _floor(loaded, expected.precision),
            _floor(clean[keep].reset_index(drop=True), expected.precision),
            check_dtype=False,
        )
    elif expected.status == "rejected":
        assert batch.status == "rejected", message
        assert re.search(expected.rule, message), message
    else:
        assert batch.status == "failed", message
        assert re.search(expected.rule, message), message
        assert not partition(paths.landing_parquet, contract, NIGHT2).exists()

    if expected.full_night:
        _check_published_night(summary, paths, key, expected, published_before, clean_second_night)


def _check_published_night(summary, paths, damaged_key, expected, published_before, clean) -> None:
    """The other entities load as on a clean night; night 1 stays in the warehouse, or stays published."""
    for entity in summary["entities"]:
        if entity["source_entity"] != damaged_key:
            assert entity["status"] in manifest.LOADED_STATUSES, entity
            loaded = _accepted(paths, entity["source_entity"])
            pd.testing.assert_frame_equal(
                loaded, _accepted(clean, entity["source_entity"]), check_dtype=False
            )
    if expected.status == "unpublished":
        assert not summary["published"]
        assert re.search(expected.rule, str(summary["build"] or "") + _build_log(paths)), summary
        assert table_fingerprints(paths.warehouse) == published_before
        return
    assert summary["published"], summary
    if damaged_key in SNAPSHOTS:  # nothing closed in its history: no record taken for deleted
        history = f"snapshots.{SNAPSHOTS[damaged_key]}"
        assert table_fingerprints(paths.warehouse)[history] == published_before[history]
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        cases = {r[0] for r in con.sql("select case_key from marts.fct_case").fetchall()}
        orgs = con.sql("select count(*) from marts.dim_organization where is_current").fetchall()[0][0]
    night1 = _accepted_on(paths, "city.cases", NIGHT1)
    assert set(night1["case_no"]) <= cases  # the first night's cases are all still there
    assert orgs == len(_accepted(paths, "party.organizations"))


def _accepted_on(paths: Paths, key: str, day) -> pd.DataFrame:
    contract = get(*key.split("."))
    return pd.read_parquet(partition(paths.accepted, contract, day))


def _build_log(paths: Paths) -> str:
    log = paths.home / "logs" / "dbt" / "dbt.log"
    return log.read_text(errors="replace")[-20000:] if log.exists() else ""
