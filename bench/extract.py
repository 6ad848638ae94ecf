"""Throughput of the two source readers measured alone: the city DB extract and the gov JSON pages.

``python -m bench.extract city-db --dsn DSN --date D`` extracts every city entity for the night of D into a
scratch gridfusion home with no watermark, so each incremental table is read whole up to the end of D (fill
the DB first with ``gridfusion-sim load-db``). ``python -m bench.extract json-pages --drops DIR --date D``
reads D's gov pages with ``read_json_pages``. Both print rows, seconds and rows/s per entity, best of
``--repeat`` runs.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path

import typer

from ingest.config import Paths
from ingest.connectors.postgres_source import extract_city_entity
from ingest.contracts import for_system
from ingest.readers import read_json_pages

app = typer.Typer(add_completion=False, no_args_is_help=True)


def _report(entity: str, rows: int, runs: list[tuple[float, float]], size: int | None = None) -> None:
    """Best wall and best CPU seconds (user + system of this process, all its threads) over the runs."""
    wall, cpu = min(w for w, _ in runs), min(c for _, c in runs)
    mb = f", {size / 1e6 / wall:.1f} MB/s of {size / 1e6:.1f} MB" if size else ""
    typer.echo(
        f"{entity:16} {rows:>9} rows  best of {len(runs)}: {wall:7.3f} s wall, {cpu:7.3f} s CPU  "
        f"{rows / wall:>10,.0f} rows/s, {rows / cpu:>10,.0f} rows per CPU-s{mb}"
    )


def _timed(run) -> tuple[int, tuple[float, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    rows = run()
    return rows, (time.perf_counter() - wall, time.process_time() - cpu)


@app.command("city-db")
def city_db(dsn: str = typer.Option(...), night: str = typer.Option(..., "--date"), repeat: int = 3) -> None:
    for contract in for_system("city"):
        runs, rows = [], 0
        for _ in range(repeat):
            with tempfile.TemporaryDirectory(prefix="bench-extract-") as home:
                os.environ["GRIDFUSION_DROPS"] = f"{home}/drops"  # never over a real drop folder
                paths = Paths(Path(home))
                rows, run = _timed(
                    lambda: extract_city_entity(contract, date.fromisoformat(night), paths, dsn=dsn).rows  # noqa: B023
                )
                runs.append(run)
        _report(contract.entity, rows, runs)


@app.command("json-pages")
def json_pages(
    drops: Path = typer.Option(...), night: str = typer.Option(..., "--date"), repeat: int = 3
) -> None:
    for contract in for_system("gov"):
        pages = sorted((drops / "gov" / night).glob(contract.file_glob))
        runs, rows = [], 0
        for _ in range(repeat):
            rows, run = _timed(lambda: len(read_json_pages(pages, contract)))  # noqa: B023
            runs.append(run)
        _report(contract.entity, rows, runs, sum(p.stat().st_size for p in pages))


if __name__ == "__main__":
    app()
