"""``python -m bench``: simulate a city, load it night by night, and compare with DuckDB's own readers."""

from __future__ import annotations

import inspect
import json
import logging
import os
import shutil
import time
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path

import psutil
import typer
from rich.console import Console
from rich.table import Table

from bench.memory import PeakMemory, lifetime_max_rss
from bench.nights import EntityTiming, NightTiming, run_night
from bench.reference import ReferenceRead, read_night
from ingest.config import REPO_ROOT, Paths
from simulator.generate import generate
from warehouse.publish import KEEP_RELEASES_ENV

RESULTS = REPO_ROOT / "bench" / "results"
MIB = 1024 * 1024
console = Console()
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _generate(preset: str, fraction: float, days: int, start: date, out: Path) -> None:
    scale = {"fraction": fraction} if fraction != 1 else {}
    if scale and "fraction" not in inspect.signature(generate).parameters:
        raise typer.BadParameter("this simulator does not take --fraction yet; use --fraction 1")
    generate(preset, out, days=days, start=start, **scale)


def _disk_bytes(folder: Path) -> int:
    """Disk taken by ``folder``: each file once however many hard links (releases) name it."""
    seen: dict[tuple[int, int], int] = {}
    for path in folder.rglob("*"):
        if path.is_file():
            st = path.stat()
            seen[(st.st_dev, st.st_ino)] = st.st_blocks * 512
    return sum(seen.values())


def _per_second(amount: float, seconds: float) -> float:
    return round(amount / seconds, 1) if seconds > 0 else 0.0


def _night_record(timing: NightTiming, kind: str) -> dict:
    mb = timing.raw_bytes / MIB
    return {
        "load_date": timing.load_date,
        "kind": kind,
        "rows": timing.rows,
        "raw_mb": round(mb, 2),
        "seconds": round(timing.seconds, 2),
        "cpu_seconds": round(sum(s.cpu_seconds for s in timing.stages), 2),
        "rows_per_s": _per_second(timing.rows, timing.seconds),
        "mb_per_s": _per_second(mb, timing.seconds),
        "peak_rss_mb": round(timing.peak_rss_bytes / MIB),
        "dbt_parse_seconds": timing.dbt_parse_seconds,
        "dbt_compile_seconds": timing.dbt_compile_seconds,
        "dbt_parse_compile_share": round(
            (timing.dbt_parse_seconds + timing.dbt_compile_seconds) / timing.seconds, 3
        )
        if timing.seconds
        else None,
        "stages": [
            {
                "stage": s.stage,
                "seconds": round(s.seconds, 2),
                "cpu_seconds": round(s.cpu_seconds, 2),
                "rows_per_s": _per_second(timing.rows, s.seconds),
                "mb_per_s": _per_second(mb, s.seconds),
                "peak_rss_mb": round(s.peak_rss_bytes / MIB),
            }
            for s in timing.stages
        ],
        "entities": [_entity_record(e) for e in timing.entities.values()],
        "errors": timing.errors,
    }


def _entity_record(entity: EntityTiming) -> dict:
    mb = entity.bytes / MIB
    return {
        "entity": entity.entity,
        "rows": entity.rows,
        "raw_mb": round(mb, 2),
        "land_seconds": round(entity.land_seconds, 3),
        "validate_seconds": round(entity.validate_seconds, 3),
        "land_rows_per_s": _per_second(entity.rows, entity.land_seconds),
        "land_mb_per_s": _per_second(mb, entity.land_seconds),
        "validate_rows_per_s": _per_second(entity.rows, entity.validate_seconds),
    }


def _reference_record(reads: list[ReferenceRead]) -> dict:
    seconds = sum(r.seconds for r in reads)
    rows = sum(r.rows for r in reads)
    mb = sum(r.bytes for r in reads) / MIB
    return {
        "seconds": round(seconds, 2),
        "rows": rows,
        "raw_mb": round(mb, 2),
        "rows_per_s": _per_second(rows, seconds),
        "mb_per_s": _per_second(mb, seconds),
        "entities": [asdict(r) | {"seconds": round(r.seconds, 3)} for r in reads],
    }


def _ratios(nights: list[dict], reference: dict) -> dict:
    full, deltas = nights[0], nights[1:]
    return {
        "full_load_vs_reference": round(full["seconds"] / reference["seconds"], 1),
        "nightly_vs_full_load": [round(n["seconds"] / full["seconds"], 3) for n in deltas],
        "dbt_parse_compile_share": [n["dbt_parse_compile_share"] for n in nights],
    }


def _table(result: dict) -> Table:
    table = Table(
        title=f"gridfusion bench — preset {result['preset']}, fraction {result['fraction']} "
        f"(load {result['machine']['load_average_before']})",
        caption="rows/s and MB/s: the night's landed source rows and raw extract bytes over each stage's time",
    )
    for name, justify in (
        ("night", "left"),
        ("stage", "left"),
        ("seconds", "right"),
        ("CPU s", "right"),
        ("rows/s", "right"),
        ("MB/s", "right"),
        ("peak RSS MiB", "right"),
    ):
        table.add_column(name, justify=justify)
    ref = result["reference"]
    table.add_row(
        "reference",
        "DuckDB → Parquet",
        f"{ref['seconds']:.2f}",
        "",
        f"{ref['rows_per_s']:,.0f}",
        f"{ref['mb_per_s']:.1f}",
        "",
    )
    for n in result["nights"]:
        labels = iter([n["load_date"], n["kind"], f"{n['rows']:,} rows", f"{n['raw_mb']} MB raw"])
        table.add_section()
        for s in n["stages"]:
            table.add_row(
                next(labels, ""),
                s["stage"],
                f"{s['seconds']:.2f}",
                f"{s['cpu_seconds']:.2f}",
                f"{s['rows_per_s']:,.0f}",
                f"{s['mb_per_s']:.1f}",
                str(s["peak_rss_mb"]),
            )
        table.add_row(
            "",
            "[bold]night[/]",
            f"[bold]{n['seconds']:.2f}[/]",
            f"{n['cpu_seconds']:.2f}",
            f"{n['rows_per_s']:,.0f}",
            f"{n['mb_per_s']:.1f}",
            str(n["peak_rss_mb"]),
        )
    return table


def _entity_table(result: dict) -> Table:
    """The full load per entity beside DuckDB reading the same files (the reference reads the first night)."""
    table = Table(title=f"full load {result['nights'][0]['load_date']} per entity, against DuckDB → Parquet")
    for name in ("entity", "rows", "MB", "land s", "land MB/s", "land rows/s", "validate s", "DuckDB s"):
        table.add_column(name, justify="left" if name == "entity" else "right")
    table.add_column("DuckDB MB/s", justify="right")
    table.add_column("land ÷ DuckDB", justify="right")
    reference = {r["entity"]: r for r in result["reference"]["entities"]}
    for e in result["nights"][0]["entities"]:
        ref = reference.get(e["entity"], {})
        ref_s = ref.get("seconds", 0.0)
        table.add_row(
            e["entity"],
            f"{e['rows']:,}",
            f"{e['raw_mb']:.1f}",
            f"{e['land_seconds']:.2f}",
            f"{e['land_mb_per_s']:.1f}",
            f"{e['land_rows_per_s']:,.0f}",
            f"{e['validate_seconds']:.2f}",
            f"{ref_s:.2f}",
            f"{_per_second(ref.get('bytes', 0) / MIB, ref_s):.1f}",
            f"{e['land_seconds'] / ref_s:.1f}×" if ref_s else "",
        )
    return table


@app.command()
def main(
    preset: str = typer.Option("city", help="Simulator scale preset."),
    fraction: float = typer.Option(1.0, help="Share of the preset's city to simulate (1 = all of it)."),
    days: int = typer.Option(4, help="Nights to load: the first is the full load, the rest nightly deltas."),
    start: str = typer.Option("2026-11-01", help="First simulated day."),
    workdir: Path = typer.Option(None, help="Scratch home for drops and warehouse (default var/bench/...)."),
    results: Path = typer.Option(RESULTS, help="Folder for the JSON result."),
    keep_releases: int = typer.Option(
        2, min=1, help="Published nights kept for roll-back; each rewritten one is a whole warehouse on disk."
    ),
) -> None:
    """Generate fresh drops, load them night by night, measure each stage and the DuckDB reference."""
    logging.basicConfig(level=logging.ERROR, force=True)  # quarantined rows are in the reports, not here
    workdir = (workdir or REPO_ROOT / "var" / "bench" / f"{preset}-{fraction:g}").resolve()
    shutil.rmtree(workdir, ignore_errors=True)
    os.environ["GRIDFUSION_HOME"] = str(workdir / "home")
    os.environ["GRIDFUSION_DROPS"] = str(workdir / "drops")
    os.environ[KEEP_RELEASES_ENV] = str(keep_releases)
    paths = Paths.from_env()
    first = date.fromisoformat(start)
    load_before = os.getloadavg()

    began = time.perf_counter()
    _generate(preset, fraction, days, first, paths.drops)
    generated_s = time.perf_counter() - began
    console.print(f"generated {preset} × {fraction:g}, {days} days in {generated_s:.1f}s → {paths.drops}")

    reference = _reference_record(read_night(first, paths))
    nights = []
    with PeakMemory() as memory:
        for day in range(days):
            load_date = date.fromordinal(first.toordinal() + day)
            timing = run_night(load_date, paths, memory)
            nights.append(_night_record(timing, "full load" if day == 0 else "nightly delta"))
            console.print(
                f"{load_date}: {timing.seconds:.1f}s" + (f" — {timing.errors}" if timing.errors else "")
            )

    result = {
        "preset": preset,
        "fraction": fraction,
        "days": days,
        "keep_releases": keep_releases,
        "start": start,
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cpus": psutil.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "memory_method": "psutil RSS of this process and its children (looked up once a second), sampled every "
        "20 ms; dbt, DuckDB and Great Expectations all run in-process",
        "max_rss_mb": round(lifetime_max_rss() / MIB),
        "generate_seconds": round(generated_s, 1),
        "reference": reference,
        "nights": nights,
        "disk_bytes_after": _disk_bytes(workdir),
    }
    result["ratios"] = _ratios(nights, reference)
    console.print(_table(result))
    console.print(_entity_table(result))
    console.print(result["ratios"])
    results.mkdir(parents=True, exist_ok=True)
    target = results / f"{preset}-{fraction:g}-{datetime.now():%Y%m%dT%H%M%S}.json"
    target.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    console.print(f"→ {target}")
    failed = [f"{n['load_date']}: {error}" for n in nights for error in n["errors"]]
    if failed:  # figures of a night that did not load are not figures of the product
        console.print("[red]bench nights had errors:[/]\n" + "\n".join(failed))
        raise typer.Exit(1)
