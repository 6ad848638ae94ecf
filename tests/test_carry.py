"""Snapshot carry-forward: a night that carries unchanged rows commits exactly what a full validation would."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from stdnum.cn import ric

from expectations.validate import recorded_outcomes, validate
from ingest import carry, manifest
from ingest.carry import carried_verdicts
from ingest.config import Paths, partition
from ingest.contracts import get
from ingest.landing import land
from ingest.references import validation_order

DAY1, DAY2 = date(2026, 11, 1), date(2026, 11, 2)
MEMBERS, ORGS = get("party", "members"), get("party", "organizations")
SNAPSHOTS = (
    get("city", "grids"),
    ORGS,
    MEMBERS,
    get("city", "grid_workers"),
    get("gov", "residents"),
)
LINEAGE_TIME = "_loaded_at"  # when a row was written: differs between any two runs


def _load(paths: Paths, night: date, carry_forward: bool) -> None:
    for contract in validation_order(SNAPSHOTS):
        land(contract, night, paths, carry_forward=carry_forward)
        validate(contract, night, paths)


def _rows(path: Path) -> list[list[str]]:
    """The file's rows, the export's exact repeats left out (landing drops them; editing one copy of a
    repeated row would make two rows with one key)."""
    rows = csv.reader(io.StringIO(path.read_bytes().decode("gbk"), newline=""))
    return [list(row) for row in dict.fromkeys(map(tuple, rows))]


def _write(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("gbk"))


def _committed(paths: Paths, contract, night: date, root: Path) -> pd.DataFrame:
    batch = manifest.latest(paths.manifest, contract.system, contract.entity, night)
    target = partition(root, contract, night) / f"{batch.batch_id}.parquet"
    if not target.exists():
        return pd.DataFrame()
    frame = pq.read_table(target).to_pandas().drop(columns=LINEAGE_TIME)
    return frame.sort_values(["_source_file", "_source_row"]).reset_index(drop=True)


@pytest.fixture
def changed_night(home, own_drops):
    """Night 1 loaded; night 2's members changed in every way carry-forward must handle: a row edited, one
    gone, one new, one quarantined on night 1 for its ID number and fixed, and one that named an
    organization not delivered yet, whose organization arrives on night 2 (its own row as on night 1); and
    one sent with a wrong ID check character on both nights."""
    first_csv = own_drops / "party" / DAY1.isoformat() / "members.csv"
    header, *body = _rows(first_csv)
    still_bad = body[10]
    number = still_bad[header.index("公民身份号码")]
    wrong = next(d for d in "0123456789" if d != ric.calc_check_digit(number[:17]))
    still_bad[header.index("公民身份号码")] = number[:17] + wrong
    _write(first_csv, [header, *body])
    _load(home, DAY1, carry_forward=False)
    quarantined = pd.read_parquet(partition(home.quarantine, MEMBERS, DAY1))
    own_fault = quarantined[quarantined["_rules"] == "id_number:valid_id_number"]
    bad_id = own_fault[own_fault["member_id"] != still_bad[0]].iloc[0]
    dangling = quarantined[quarantined["_rules"] == "org_code:references"].iloc[0]

    members_csv = own_drops / "party" / DAY2.isoformat() / "members.csv"
    header, *body = _rows(members_csv)
    column = {name: i for i, name in enumerate(header)}
    night1 = {row[column["党员编号"]]: row for row in _rows(first_csv)}
    body = [
        night1[row[column["党员编号"]]]
        if row[column["党员编号"]] in (bad_id["member_id"], dangling["member_id"], still_bad[0])
        else row
        for row in body
    ]
    by_id = {row[column["党员编号"]]: row for row in body}
    edited, gone = body[3], body[4]
    edited[column["手机号码"]] = "13900000000"
    body.remove(gone)
    newcomer = [*body[5]]
    newcomer[column["党员编号"]] = "DY09999999"
    body.append(newcomer)
    fixed = by_id[bad_id["member_id"]]
    number = fixed[column["公民身份号码"]]
    fixed[column["公民身份号码"]] = number[:17] + ric.calc_check_digit(number[:17])
    _write(members_csv, [header, *body])

    orgs_csv = own_drops / "party" / DAY2.isoformat() / "organizations.csv"
    org_header, *orgs = _rows(orgs_csv)
    arriving = [*orgs[-1]]
    arriving[org_header.index("组织编码")] = dangling["org_code"]
    _write(orgs_csv, [org_header, *orgs, arriving])
    return {
        "edited": edited[column["党员编号"]],
        "gone": gone[column["党员编号"]],
        "fixed": bad_id["member_id"],
        "dangling": dangling["member_id"],
        "still_bad": still_bad[0],
    }


def test_a_carried_night_commits_exactly_what_a_full_validation_does(home, changed_night, tmp_path):
    full = Paths(tmp_path / "full")
    _load(full, DAY1, carry_forward=False)
    _load(home, DAY2, carry_forward=True)
    _load(full, DAY2, carry_forward=False)
    for contract in SNAPSHOTS:
        carried = manifest.latest(home.manifest, contract.system, contract.entity, DAY2)
        plain = manifest.latest(full.manifest, contract.system, contract.entity, DAY2)
        assert (carried.batch_id, carried.status) == (plain.batch_id, plain.status), contract.key
        if carried.status != "accepted":
            continue
        assert plain.rows_carried == 0
        assert (carried.rows_read, carried.rows_loaded, carried.rows_quarantined) == (
            plain.rows_read,
            plain.rows_loaded,
            plain.rows_quarantined,
        ), contract.key
        assert carried.duplicates_dropped == plain.duplicates_dropped
        assert (
            carried.rows_read == carried.rows_loaded + carried.rows_quarantined + carried.duplicates_dropped
        )
        for root in ("accepted", "quarantine"):
            pd.testing.assert_frame_equal(
                _committed(home, contract, DAY2, getattr(home, root)),
                _committed(full, contract, DAY2, getattr(full, root)),
                obj=f"{contract.key} {root}",
            )
        assert recorded_outcomes(home, contract, carried) == recorded_outcomes(full, contract, plain)
    members = manifest.latest(home.manifest, "party", "members", DAY2)
    assert 0 < members.rows_carried < members.rows_read
    assert members.carried_from == manifest.latest(home.manifest, "party", "members", DAY1).batch_id


def test_changed_new_gone_and_fixed_rows(home, changed_night):
    _load(home, DAY2, carry_forward=True)
    batch = manifest.latest(home.manifest, "party", "members", DAY2)
    landed = pq.read_table(partition(home.landing_parquet, MEMBERS, DAY2) / f"{batch.batch_id}.parquet")
    landed = landed.to_pandas()
    verdicts = carried_verdicts(home, MEMBERS, DAY2, batch.batch_id).to_pandas()
    carried_ids = set(landed["member_id"].iloc[verdicts["_row"]])
    assert len(carried_ids) == batch.rows_carried
    # An edited row, a new row and a fixed row are parsed again; an unchanged one is carried.
    assert not {changed_night["edited"], "DY09999999", changed_night["fixed"]} & carried_ids
    assert changed_night["dangling"] in carried_ids
    assert changed_night["gone"] not in set(landed["member_id"])
    # Carried rows keep today's place in the file.
    assert landed["_source_row"].tolist() == list(range(1, len(landed) + 1))
    accepted = pd.read_parquet(partition(home.accepted, MEMBERS, DAY2))
    quarantined = pd.read_parquet(partition(home.quarantine, MEMBERS, DAY2))
    assert changed_night["gone"] not in set(accepted["member_id"]) | set(quarantined["member_id"])
    edited = accepted.set_index("member_id").loc[changed_night["edited"]]
    assert edited["phone"] == "+8613900000000"
    # Quarantined on night 1: fixed by the source, or its organization delivered since.
    assert {"DY09999999", changed_night["fixed"], changed_night["dangling"]} <= set(accepted["member_id"])
    assert not {changed_night["fixed"], changed_night["dangling"]} & set(quarantined["member_id"])
    # A row carried with its quarantine verdict for a rule of the row alone stays quarantined, unchecked.
    kept = verdicts[verdicts["_rules"] == "id_number:valid_id_number"]
    assert set(landed["member_id"].iloc[kept["_row"]]) == {changed_night["still_bad"]}
    assert set(quarantined["member_id"]) == {changed_night["still_bad"]}
    # Rerunning the night changes nothing.
    before = _committed(home, MEMBERS, DAY2, home.accepted)
    _load(home, DAY2, carry_forward=True)
    pd.testing.assert_frame_equal(_committed(home, MEMBERS, DAY2, home.accepted), before)


def test_a_change_to_the_rules_carries_nothing(home, own_drops, monkeypatch):
    """Rows typed and checked by yesterday's rules are not carried into a night that checks them otherwise."""
    _load(home, DAY1, carry_forward=False)
    land(MEMBERS, DAY2, home)
    assert manifest.latest(home.manifest, "party", "members", DAY2).rows_carried > 0
    grids = get("city", "grids")
    changed = dataclasses.replace(grids, description=grids.description + " (revised)")
    assert carry.rules_version(changed) != carry.rules_version(grids)
    land(grids, DAY2, home)
    assert manifest.latest(home.manifest, "city", "grids", DAY2).rows_carried > 0
    monkeypatch.setattr(carry, "rules_version", lambda contract: "another version of the rules")
    land(ORGS, DAY2, home)
    assert manifest.latest(home.manifest, "party", "organizations", DAY2).rows_carried == 0
