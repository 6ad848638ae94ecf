"""``gridfusion-sim``: generate the three source systems' drops for a simulated city."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import typer
from rich.console import Console

from ingest.config import Paths
from simulator.generate import generate
from simulator.presets import PRESETS

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
    out: Path = typer.Option(None, help="Drop folder (default: $GRIDFUSION_HOME/drops)."),
) -> None:
    """Write day-by-day drops for every system, and the ground truth beside them."""
    if preset not in PRESETS:
        raise typer.BadParameter(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    out = out or Paths.from_env().drops
    began = time.perf_counter()
    world = generate(preset, out, days or None, date.fromisoformat(start), seed)
    console.print(
        f"[green]generated[/] preset={preset} days={world.days} persons={len(world.persons)} "
        f"members={len(world.members)} grids={len(world.grids)} cases={len(world.cases)} "
        f"orders={len(world.orders)} in {time.perf_counter() - began:.1f}s → {out}"
    )


@app.command("presets")
def presets_cmd() -> None:
    """List the scale presets."""
    for p in PRESETS.values():
        console.print(p)


if __name__ == "__main__":
    app()
