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


def _report(entity: str, rows: int, seconds: list[float], size: int | None = None) -> None:
    best = min(seconds)
    mb = f", {size / 1e6 / best:.1f} MB/s of {size / 1e6:.1f} MB" if size else ""
    typer.echo(
        f"{entity:16} {rows:>9} rows  best {best:7.3f} s of {len(seconds)}  {rows / best:>10,.0f} rows/s{mb}"
    )


@app.command("city-db")
def city_db(dsn: str = typer.Option(...), night: str = typer.Option(..., "--date"), repeat: int = 3) -> None:
    for contract in for_system("city"):
        seconds, rows = [], 0
        for _ in range(repeat):
            with tempfile.TemporaryDirectory(prefix="bench-extract-") as home:
                os.environ["GRIDFUSION_DROPS"] = f"{home}/drops"  # never over a real drop folder
                paths = Paths(Path(home))
                started = time.perf_counter()
                rows = extract_city_entity(contract, date.fromisoformat(night), paths, dsn=dsn).rows
                seconds.append(time.perf_counter() - started)
        _report(contract.entity, rows, seconds)


@app.command("json-pages")
def json_pages(
    drops: Path = typer.Option(...), night: str = typer.Option(..., "--date"), repeat: int = 3
) -> None:
    for contract in for_system("gov"):
        pages = sorted((drops / "gov" / night).glob(contract.file_glob))
        seconds, rows = [], 0
        for _ in range(repeat):
            started = time.perf_counter()
            rows = len(read_json_pages(pages, contract))
            seconds.append(time.perf_counter() - started)
        _report(contract.entity, rows, seconds, sum(p.stat().st_size for p in pages))


if __name__ == "__main__":
    app()
