"""Re-admitting quarantined rows: a case quarantined for a grid the city system had not delivered yet loads
once the grid arrives, through ``gridfusion readmit`` and the next build, exactly once, with its history kept."""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta

import duckdb
import pandas as pd
import pyarrow.parquet as pq
from typer.testing import CliRunner

from ingest import manifest
from tests.conftest import START
from warehouse.cli import app
from warehouse.night import run_night

DAY1, DAY2, DAY3 = (START + timedelta(days=n) for n in range(3))
runner = CliRunner()


def _grid_unknown_until_night_three(drops, truth) -> tuple[str, str, str]:
    """Move a clean case that changed on night 2 (its status) and is not delivered again on night 3 into a
    grid the city system delivers only on night 3; returns the case's number and its status on nights 1
    and 2."""
    folder = {day: drops / "city" / day.isoformat() for day in (DAY1, DAY2, DAY3)}
    delivered = {
        day: pd.read_csv(f / "cases.csv", dtype=str).set_index("case_no") for day, f in folder.items()
    }
    clean = set(truth.table("cases").query("dirty_rule == '' and origin_system == 'city'")["case_key"])
    night1, night2 = delivered[DAY1]["status"], delivered[DAY2]["status"]
    both = night1.index.intersection(night2.index).difference(delivered[DAY3].index)
    case_no = next(c for c in sorted(both) if c in clean and night1[c] != night2[c])
    grid = truth.table("cases").set_index("case_key").loc[case_no, "grid_code"]
    new_grid = grid[:-4] + "0099"  # a grid of the same community, split off on night 3
    cases = folder[DAY2] / "cases.csv"
    lines = cases.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    moved = [
        line.replace(line.split(",")[1], new_grid, 1) if line.startswith(case_no + ",") else line
        for line in lines
    ]
    assert moved != lines
    cases.write_text("".join(moved), encoding="utf-8-sig")
    grids = folder[DAY3] / "grids.geojson"
    snapshot = json.loads(grids.read_text(encoding="utf-8"))
    community = [f for f in snapshot["features"] if f["properties"]["gridCode"].startswith(grid[:12])]
    split = copy.deepcopy(community[0])
    split["properties"]["gridCode"] = new_grid
    snapshot["features"].append(split)
    grids.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
    return case_no, night1[case_no], night2[case_no]


def _readmit(*args: str) -> str:
    result = runner.invoke(app, ["readmit", "--entity", "city.cases", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _case_in_fct_case(paths, case_no: str) -> list[str]:
    """The case's status as each of its rows in fct_case has it."""
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        rows = con.execute(
            "select source_status from marts.fct_case where case_key = ?", [case_no]
        ).fetchall()
    return [status for (status,) in rows]


def _quarantined_cases(paths) -> pd.DataFrame:
    return pd.read_parquet(
        paths.quarantine / "city" / "cases", columns=["case_no", "_rules", "_readmitted_by"]
    )


def test_a_case_quarantined_for_an_unknown_grid_loads_once_the_grid_arrives(home, own_drops, truth):
    case_no, status_night1, status_night2 = _grid_unknown_until_night_three(own_drops, truth)
    for night in (DAY1, DAY2):
        run_night(night, home)
    held = _quarantined_cases(home).set_index("case_no")
    assert held.loc[case_no, "_rules"] == "grid_code:references"
    run_night(DAY3, home)  # the grid is back, but the case's night-2 change was not delivered again
    assert _case_in_fct_case(home, case_no) == [status_night1]

    # night 3 holds only the simulator's truly dangling cases: they stay where they are
    nothing = _readmit("--date", DAY3.isoformat(), "--rule", "grid_code:references")
    assert re.search(
        r": 0 of [1-9]\d* pending quarantined rows readmitted; still failing: grid_code:references", nothing
    )
    output = _readmit("--rule", "grid_code:references")
    assert "readmitted" in output

    origin = manifest.of_night(home.manifest, "city", "cases", DAY2)
    readmitted = [
        b for b in manifest.batches(home.manifest, "city", "cases") if b.status == manifest.READMITTED
    ]
    assert len(readmitted) == 1 and readmitted[0].readmitted_from == origin.batch_id
    assert readmitted[0].load_date == DAY2.isoformat()
    # every source row counted once: loaded, still quarantined, or loaded by the readmission
    assert origin.rows_read == origin.rows_loaded + origin.rows_quarantined + origin.rows_readmitted
    assert origin.rows_readmitted == readmitted[0].rows_read == readmitted[0].rows_loaded >= 1

    held = _quarantined_cases(home)
    marked = held[held["_readmitted_by"].notna()]
    assert case_no in set(marked["case_no"]) and set(marked["_readmitted_by"]) == {readmitted[0].batch_id}
    assert len(marked) == origin.rows_readmitted
    # what the simulator made truly dangling, or unreadable, stays held
    dirty = set(truth.table("cases").query("dirty_rule != ''")["case_key"])
    assert dirty & set(held["case_no"]) and not dirty & set(marked["case_no"])

    # the readmitted rows keep their lineage: the night-2 file and row they were read from
    accepted = home.accepted / "city" / "cases" / f"load_date={DAY2}" / f"{readmitted[0].batch_id}.parquet"
    lineage = pq.read_table(accepted).to_pandas().set_index("case_no")
    assert lineage.loc[case_no, "_source_file"] == "cases.csv"
    assert lineage.loc[case_no, "_batch_id"] == readmitted[0].batch_id
    assert (lineage["_load_date"].astype(str) == DAY2.isoformat()).all()

    assert re.search(r": 0 of \d+ pending", _readmit())  # nothing new: readmitting again changes nothing
    assert len([b for b in manifest.batches(home.manifest, "city", "cases") if b.status == "readmitted"]) == 1

    run_night(DAY3, home)  # the next build
    assert _case_in_fct_case(home, case_no) == [status_night2]  # once, as it changed on night 2
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        history = con.execute(
            "select readmitted_by from ops.quarantined_rows where record_key = ?", [case_no]
        ).fetchall()
        batch = con.execute(
            "select status, readmitted_from, rows_read, rows_loaded from ops.batch_history where batch_id = ?",
            [readmitted[0].batch_id],
        ).fetchone()
    assert history == [(readmitted[0].batch_id,)]  # still queryable, marked
    assert batch == ("readmitted", origin.batch_id, origin.rows_readmitted, origin.rows_readmitted)


def test_readmit_names_a_wrong_entity(home):
    result = runner.invoke(app, ["readmit", "--entity", "cases"])
    assert result.exit_code != 0 and "no source entity" in result.output
