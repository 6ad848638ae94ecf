"""``make demo``: simulate a small city for a few days and run the real nightly DAG once per day.

Each night is a real Airflow DAG run (``airflow dags test``, SQLite metadata DB under the gridfusion home).
At the end it prints the night summaries, where the outputs are, and a first query to try.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import duckdb
import typer
from rich.console import Console

from ingest.config import SHANGHAI, Paths
from simulator.generate import generate
from warehouse.local_airflow import airflow
from warehouse.summary import print_summary

console = Console(width=130)
FIRST_QUERY = (
    "select g.street_name, g.community_name, count(*) as cases, "
    "round(avg(c.is_closed_on_time::int), 2) as on_time_rate "
    "from marts.fct_case c join marts.dim_grid g using (grid_code) group by all order by cases desc limit 5"
)


def logical_date_for(load_date: date) -> str:
    """The scheduled 02:00 run that closes the interval starting on ``load_date``."""
    return datetime.combine(load_date + timedelta(days=1), clock(2), tzinfo=SHANGHAI).isoformat()


def run_night(load_date: date, paths: Paths, log: Path, conf: dict | None = None) -> int:
    """One real DAG run of the night that loads ``load_date`` (``conf`` sets run parameters)."""
    extra = ["--conf", json.dumps(conf)] if conf else []
    return airflow(["dags", "test", "gridfusion_nightly", logical_date_for(load_date), *extra], paths, log)


def main(preset: str = "demo", days: int = 0, start: str = "2026-11-01") -> None:
    paths = Paths.from_env()
    began = time.perf_counter()
    world = generate(preset, paths.drops, days or None, date.fromisoformat(start))
    console.print(
        f"[bold]simulated[/] {preset}: {len(world.persons)} persons, {len(world.members)} party members, "
        f"{len(world.grids)} grids, {len(world.cases)} grid cases, {len(world.orders)} 12345 orders "
        f"over {world.days} days → {paths.drops}"
    )
    log = paths.home / "logs" / "demo-airflow.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    if airflow(["db", "migrate"], paths, log):
        raise SystemExit(f"airflow db migrate failed; see {log}")
    failed = []
    for offset in range(world.days):
        load_date = world.start + timedelta(days=offset)
        started = time.perf_counter()
        code = run_night(load_date, paths, log)
        summary = json.loads((paths.reports / "run_summary" / f"{load_date}.json").read_text())
        print_summary(summary, console)
        console.print(
            f"night {load_date}: DAG run {'succeeded' if code == 0 else 'FAILED'} "
            f"in {time.perf_counter() - started:.0f}s\n"
        )
        if code:
            failed.append(load_date)
    from expectations.report import report_for
    from expectations.validate import data_docs_index

    console.print(f"[bold]done in {time.perf_counter() - began:.0f}s[/]")
    last_night = world.start + timedelta(days=world.days - 1)
    console.print(f"  last quality summary:   {report_for(last_night, paths).html}")
    console.print(f"  warehouse (internal):   {paths.warehouse}")
    console.print(f"  analytics (de-identified marts): {paths.analytics}")
    console.print(f"  Data Docs by night:     {data_docs_index(paths)}")
    console.print(f"  run summaries:          {paths.reports / 'run_summary'}")
    console.print(f"  Airflow log:            {log}")
    console.print("\n[bold]a first query[/] (on the de-identified analytics database):")
    console.print(f"  {FIRST_QUERY}")
    with duckdb.connect(str(paths.analytics), read_only=True) as con:
        console.print(con.sql(FIRST_QUERY))
    console.print(
        f'run it yourself: .venv/bin/python -c "import duckdb; '
        f"duckdb.connect('{paths.analytics}', read_only=True).sql('select * from marts.fct_case limit 5').show()\"",
        soft_wrap=True,
    )
    if failed:
        raise SystemExit(f"nights that failed: {', '.join(map(str, failed))}; see {log}")


if __name__ == "__main__":
    typer.run(main)
