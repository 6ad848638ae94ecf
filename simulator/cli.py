"""``gridfusion-sim``: generate the three source systems' drops for a simulated city, serve the gov API, and
fill the city system's front-end database."""

from __future__ import annotations

import signal
import time
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from ingest.config import Paths
from simulator.generate import generate
from simulator.mutations import KINDS, mutate
from simulator.presets import PRESETS
from simulator.progress import Stages, bars
from simulator.server import ENTITIES, Faults, GovApiServer, page_ref

app = typer.Typer(
    help="Simulated party, gov and city source systems with ground truth.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()


@app.command("generate")
def generate_cmd(
    preset: str = typer.Option("demo", help=f"Scale preset: {', '.join(PRESETS)}."),
    days: int = typer.Option(0, help="Days to simulate (0 = the preset's default)."),
    start: str = typer.Option("2026-11-01", help="First simulated day (YYYY-MM-DD)."),
    seed: int = typer.Option(20261101, help="Random seed; the same seed gives the same city."),
    fraction: float = typer.Option(1.0, help="Share of the preset's persons, grids and cases to simulate."),
    out: Path = typer.Option(None, help="Drop folder (default: $GRIDFUSION_HOME/drops)."),
) -> None:
    """Write day-by-day drops for every system, and the ground truth beside them."""
    if preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    if not 0 < fraction <= 1:
        raise typer.BadParameter(f"--fraction must be in (0, 1], got {fraction}")
    out = out or Paths.from_env().drops
    began = time.perf_counter()
    with bars() as progress:
        world = generate(
            preset,
            out,
            days or None,
            date.fromisoformat(start),
            seed,
            fraction=fraction,
            stages=Stages(progress),
        )
    console.print(
        f"[green]generated[/] preset={world.preset.name} days={world.days} persons={len(world.persons)} "
        f"members={len(world.members)} grids={len(world.grids)} cases={len(world.cases)} "
        f"orders={len(world.orders)} in {time.perf_counter() - began:.1f}s → {out}"
    )


@app.command("serve")
def serve_cmd(
    token: str = typer.Option(..., envvar="GRIDFUSION_GOV_API_TOKEN", help="Bearer token clients must send."),
    drops: Path = typer.Option(None, help="Drop folder to serve (default: $GRIDFUSION_HOME/drops)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8765, help="Port to listen on (0 = any free port)."),
    fault_rate: float = typer.Option(0.0, help="Share of requests answered 429 or 503."),
    seed: int = typer.Option(20261101, help="Seed for the injected faults; the same seed, the same faults."),
    retry_after: int = typer.Option(1, help="Seconds a 429 asks the client to wait (Retry-After)."),
    fail_page: list[str] = typer.Option([], help="ENTITY:PAGE answered 503 every time (repeatable)."),
    slow_page: list[str] = typer.Option([], help="ENTITY:PAGE answered only after --slow-seconds."),
    slow_seconds: float = typer.Option(60.0, help="How long a --slow-page hangs."),
) -> None:
    """Serve the gov system's drops as its paged HTTP API: GET /api/{entity}?date=YYYY-MM-DD&page=n."""
    try:
        faults = Faults(
            rate=fault_rate,
            seed=seed,
            retry_after_s=retry_after,
            failing_pages=frozenset(map(page_ref, fail_page)),
            slow_pages=frozenset(map(page_ref, slow_page)),
            slow_s=slow_seconds,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    drops = drops or Paths.from_env().drops
    server = GovApiServer((host, port), drops, token, faults)
    console.print(
        f"serving {drops / 'gov'} at {server.url}/api/{{{','.join(ENTITIES)}}}?date=&page=", soft_wrap=True
    )
    console.file.flush()  # the address is what a caller waits for, also when stdout is a pipe
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as on Ctrl-C, with the counts
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        console.print(f"stopped; responses by status: {dict(sorted(server.counts.items()))}")


@app.command("load-db")
def load_db_cmd(
    dsn: str = typer.Option(..., envvar="GRIDFUSION_CITY_DB_DSN", help="libpq connection string or URI."),
    drops: Path = typer.Option(None, help="Drop folder to replay (default: $GRIDFUSION_HOME/drops)."),
    through: str = typer.Option(
        None, help="Last day to apply (YYYY-MM-DD; default: every day in the drops)."
    ),
) -> None:
    """Fill the city system's front-end PostgreSQL DB from its drops, one transaction per day.

    Days already applied are left alone, so the database can be advanced one day at a time.
    """
    from simulator.front_db import days_in, load_through

    drops = drops or Paths.from_env().drops
    last = date.fromisoformat(through) if through else None
    days = [d for d in days_in(drops) if last is None or d <= last]
    if not days:
        raise typer.BadParameter(f"no city drops in {drops / 'city'} up to {through or 'the last day'}")
    with Progress(console=console, transient=True) as progress:
        bar = progress.add_task("applying city days", total=len(days))
        applied = load_through(dsn, drops, last, on_day=lambda day: progress.advance(bar))
    console.print(
        f"[green]front-end DB[/] now holds the city system through {days[-1]}; "
        + (
            f"applied {len(applied)} day(s), {applied[0]} to {applied[-1]}"
            if applied
            else "applied nothing new"
        ),
        soft_wrap=True,
    )


@app.command("presets")
def presets_cmd() -> None:
    """List the scale presets."""
    for p in PRESETS.values():
        console.print(p)


if __name__ == "__main__":
    app()


@app.command("mutate")
def mutate_cmd(
    kind: str = typer.Option(..., help=f"One of: {', '.join(sorted(KINDS))}."),
    day: str = typer.Option(..., "--date", help="The day whose drops to damage (YYYY-MM-DD)."),
    drops: Path = typer.Option(
        None, help="Drop folder (default: $GRIDFUSION_DROPS or $GRIDFUSION_HOME/drops)."
    ),
) -> None:
    """Damage one day's drops in one of the ways real extracts go wrong, to see what a night makes of it."""
    touched = mutate(drops or Paths.from_env().drops, date.fromisoformat(day), kind)
    console.print(f"[yellow]{kind}[/] applied to {KINDS[kind][0]} of {day}; records changed: {list(touched)}")
