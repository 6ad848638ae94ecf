"""The bench's own measuring parts: the DuckDB reference reads what landing reads; the memory peak is real."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bench.cli import app
from bench.memory import PeakMemory
from bench.reference import read_night
from ingest.contracts import CONTRACTS
from ingest.landing import land
from tests.conftest import START


def test_reference_reads_every_row_landing_reads_including_the_gbk_files(home):
    reads = {r.entity: r for r in read_night(START, home)}
    assert set(reads) == {c.key for c in CONTRACTS}
    for contract in CONTRACTS:
        assert reads[contract.key].rows == land(contract, START, home).batch.rows_read, contract.key
        assert reads[contract.key].bytes > 0 and reads[contract.key].seconds > 0


def test_peak_memory_sees_a_stage_allocate_and_resets_for_the_next():
    with PeakMemory(interval=0.005) as memory:
        memory.reset()
        before = memory.stage_peak()
        block = bytearray(300 * 1024 * 1024)  # touched pages count towards RSS
        block[::4096] = b"x" * len(block[::4096])
        grown = memory.stage_peak()
        del block
        memory.reset()
        after = memory.stage_peak()
    assert grown - before > 250 * 1024 * 1024
    assert after < grown - 250 * 1024 * 1024


def test_the_bench_loads_every_night_and_writes_its_figures(tmp_path, monkeypatch):
    """The bench runs the product's own night steps; if one of them breaks, the bench must say so, not time it."""
    monkeypatch.setenv("GRIDFUSION_HOME", str(tmp_path / "unused"))  # the bench sets its own home
    result = CliRunner().invoke(
        app,
        [
            "--preset",
            "tiny",
            "--days",
            "2",
            "--workdir",
            str(tmp_path / "w"),
            "--results",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.output
    (written,) = (tmp_path / "r").glob("tiny-1-*.json")
    figures = json.loads(written.read_text())
    assert [n["errors"] for n in figures["nights"]] == [[], []]
    assert figures["nights"][0]["rows"] == figures["reference"]["rows"]
    assert all(n["seconds"] > 0 and n["peak_rss_mb"] > 0 for n in figures["nights"])
    assert {"full_load_vs_reference", "nightly_vs_full_load"} <= set(figures["ratios"])
    full_load = figures["nights"][0]["entities"]
    assert [e["entity"] for e in full_load] == [c.key for c in CONTRACTS]
    assert sum(e["rows"] for e in full_load) == figures["nights"][0]["rows"]
    assert all(e["land_seconds"] > 0 and e["validate_seconds"] > 0 and e["rows"] > 0 for e in full_load)
    assert "per entity" in result.output
