"""Validation: critical rules reject a batch with entity, rule and sample rows; warnings quarantine rows."""

from __future__ import annotations

import gc
from datetime import date

import pandas as pd
import pytest

from expectations.suites import CRITICAL, expectations_for
from expectations.validate import BatchRejected, validate
from ingest import manifest
from ingest.config import partition
from ingest.contracts import CONTRACTS, get
from ingest.landing import land

DAY1 = date(2026, 11, 1)


def test_every_contract_gets_key_and_required_rules():
    for contract in CONTRACTS:
        rules = {e.meta["rule"]: e.meta["severity"] for e in expectations_for(contract, DAY1)}
        assert rules[f"{'+'.join(contract.primary_key)}:unique"] == CRITICAL
        for column in contract.columns:
            if column.required:
                assert f"{column.name}:not_null" in rules


def test_dirty_rows_go_to_quarantine_with_their_rule_and_the_rest_loads(home, truth):
    for referenced in ("city.grids", "party.organizations"):  # the members' organizations must exist
        land(get(*referenced.split(".")), DAY1, home)
        validate(get(*referenced.split(".")), DAY1, home)
    contract = get("party", "members")
    land(contract, DAY1, home)
    batch = validate(contract, DAY1, home)
    assert batch.status == "accepted"
    assert batch.duplicates_dropped == len(truth.table("duplicate_rows").query("entity == 'members'")) > 0
    assert batch.rows_read == batch.rows_loaded + batch.rows_quarantined + batch.duplicates_dropped
    quarantined = pd.read_parquet(partition(home.quarantine, contract, DAY1))
    dirty = truth.table("person_records").query("entity == 'members' and dirty_rule != '' and first_day == 0")
    assert set(quarantined["member_id"]) == set(dirty["record_key"])
    assert (
        set(quarantined["_rules"])
        == set(dirty["dirty_rule"])
        == {"id_number:valid_id_number", "org_code:references"}
    )
    accepted = pd.read_parquet(partition(home.accepted, contract, DAY1))
    assert len(accepted) == batch.rows_loaded and not set(accepted["member_id"]) & set(dirty["record_key"])


def test_masked_ids_pass_for_residents(home, capfd):
    contract = get("gov", "residents")
    land(contract, DAY1, home)
    batch = validate(contract, DAY1, home)
    accepted = pd.read_parquet(partition(home.accepted, contract, DAY1))
    assert batch.rows_quarantined == 0
    assert accepted["id_number"].str.contains(r"\*").sum() > 0
    assert "Calculating Metrics" not in capfd.readouterr().err  # no progress bar per metric in a night's log


def test_no_batch_frame_outlives_its_validation(home):
    """A night validates every entity in one process (``run_night``, the bench): a frame left behind by one
    entity would still take memory while the next, larger one is checked."""
    for contract in (get("city", "grids"), get("city", "grid_workers")):
        land(contract, DAY1, home)
        batch = validate(contract, DAY1, home)
        gc.collect()
        # type(), not isinstance: isinstance reads __class__, which some lazy proxies answer by importing
        kept = [o for o in gc.get_objects() if type(o) is pd.DataFrame and "_source_row" in o.columns]
        assert batch.rows_loaded > 0 and kept == []


@pytest.mark.parametrize("validate_rows", [None, 5], ids=["one run", "in slices"])
def test_duplicated_keys_reject_the_batch_naming_entity_rule_and_rows(
    home, own_drops, monkeypatch, validate_rows
):
    import expectations.validate

    if validate_rows:  # the two copies of the key then fall in different slices of the row rules
        monkeypatch.setattr(expectations.validate, "VALIDATE_ROWS", validate_rows)
    path = own_drops / "city" / DAY1.isoformat() / "grid_workers.csv"
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    # the first worker twice, the copy changed later: an exact copy would be dropped at landing instead
    copy = lines[1].rsplit(",", 1)[0] + ",2026-10-31 09:00:00"
    assert copy != lines[1]
    path.write_text("\n".join([*lines, copy]) + "\n")
    contract = get("city", "grid_workers")
    land(contract, DAY1, home)
    with pytest.raises(BatchRejected) as rejected:
        validate(contract, DAY1, home)
    message = str(rejected.value)
    assert "city.grid_workers" in message and "rule worker_id:unique failed on 2 of" in message
    assert "grid_workers.csv row 1:" in message and f"grid_workers.csv row {len(lines)}:" in message
    assert not partition(home.accepted, contract, DAY1).exists()
    assert manifest.latest(home.manifest, "city", "grid_workers", DAY1).status == "rejected"


def test_an_empty_snapshot_is_rejected(home, own_drops):
    path = own_drops / "city" / DAY1.isoformat() / "grid_workers.csv"
    path.write_text(path.read_text(encoding="utf-8-sig").splitlines()[0] + "\n")
    contract = get("city", "grid_workers")
    land(contract, DAY1, home)
    with pytest.raises(BatchRejected, match="rule table:not_empty failed"):
        validate(contract, DAY1, home)


def test_without_its_referenced_entity_accepted_every_reference_dangles(home):
    """No organization accepted yet: no member's organization exists, each is quarantined, none is lost."""
    contract = get("party", "members")
    land(contract, DAY1, home)
    batch = validate(contract, DAY1, home)
    quarantined = pd.read_parquet(partition(home.quarantine, contract, DAY1))
    assert batch.rows_loaded == 0 and batch.rows_quarantined == len(quarantined)
    assert batch.rows_read == batch.rows_quarantined + batch.duplicates_dropped
    assert quarantined["_rules"].str.contains("org_code:references").all()


def _load_two_nights(home_dir, monkeypatch) -> dict[str, pd.DataFrame]:
    """Land and validate the tiny preset's first two nights; every entity's accepted and quarantined rows."""
    from ingest.config import Paths
    from warehouse.night import load_night

    monkeypatch.setenv("GRIDFUSION_HOME", str(home_dir))
    paths = Paths.from_env()
    for night in (DAY1, date(2026, 11, 2)):
        assert load_night(night, paths) == {}
    found = {}
    for contract in CONTRACTS:
        for name, root in (("accepted", paths.accepted), ("quarantine", paths.quarantine)):
            frame = pd.read_parquet(root / contract.system / contract.entity)
            frame = frame.drop(columns=["_loaded_at"], errors="ignore")
            found[f"{name} {contract.key}"] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return found


def test_a_night_landed_and_validated_in_slices_equals_one_done_whole(tmp_path, tiny_drops, monkeypatch):
    """A city's large extracts are typed, checked and routed a slice of rows (and a group of JSON pages) at a
    time, and GX checks a large batch's row rules a slice at a time; the slices' edges must not show in a
    single row or verdict."""
    import expectations.validate
    import ingest.parse
    import ingest.readers

    monkeypatch.setenv("GRIDFUSION_DROPS", str(tiny_drops))
    whole = _load_two_nights(tmp_path / "whole", monkeypatch)
    monkeypatch.setattr(ingest.parse, "PARSE_ROWS", 7)
    monkeypatch.setattr(expectations.validate, "PARSE_ROWS", 7)
    monkeypatch.setattr(ingest.readers, "PAGE_GROUP_BYTES", 1)  # a page at a time
    monkeypatch.setattr(expectations.validate, "VALIDATE_ROWS", 40)  # GX runs on slices of larger batches
    sliced = _load_two_nights(tmp_path / "sliced", monkeypatch)
    assert whole.keys() == sliced.keys()
    assert sum(len(f) for k, f in whole.items() if k.startswith("quarantine")) > 0
    for key, frame in whole.items():
        pd.testing.assert_frame_equal(sliced[key], frame, obj=key)


def test_a_batch_accepted_whole_shares_its_landed_file(home):
    grids = get("city", "grids")
    land(grids, DAY1, home)
    batch = validate(grids, DAY1, home)
    assert (batch.status, batch.rows_quarantined) == ("accepted", 0)
    accepted = partition(home.accepted, grids, DAY1)
    landed = partition(home.landing_parquet, grids, DAY1) / f"{batch.batch_id}.parquet"
    assert (accepted / landed.name).samefile(landed)  # nothing rewritten

    batch.status = "landed"  # validated again, as after a crash between the accepted file and the commit
    manifest.write(home.manifest, batch)
    assert validate(grids, DAY1, home).status == "accepted"
    assert [f.name for f in accepted.iterdir()] == [landed.name]  # no temporary file left behind
    assert (accepted / landed.name).samefile(landed)
