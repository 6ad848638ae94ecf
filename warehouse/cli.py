"""``gridfusion``: the nightly steps from the command line, without Airflow (same code as the DAG)."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console

from ingest.config import Paths
from warehouse.identity_quality import measure_warehouse
from warehouse.night import run_night
from warehouse.publish import published_release, roll_back
from warehouse.summary import print_summary, raise_if_incomplete

app = typer.Typer(
    help="Run, backfill and inspect gridfusion nights.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console(width=130)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _run(load_date: date, strict: bool, full_refresh: bool = False) -> bool:
    summary = run_night(load_date, Paths.from_env(), strict=strict, full_refresh=full_refresh)
    print_summary(summary, console)
    try:
        raise_if_incomplete(summary)
    except RuntimeError as problem:
        console.print(f"[red]{problem}[/]")
        return False
    return True


@app.command("run-night")
def run_night_cmd(
    load_date: str = typer.Option(..., "--date", help="The source day to load (YYYY-MM-DD)."),
    strict: bool = typer.Option(False, help="Do not build the warehouse unless every entity loaded."),
    full_refresh: bool = typer.Option(
        False, help="Rebuild the incremental tables from every accepted batch, not only the new ones."
    ),
) -> None:
    """Land, validate, build and publish one night. Rerunning a night is idempotent."""
    logging.basicConfig(level=logging.WARNING)
    if not _run(_day(load_date), strict, full_refresh):
        raise typer.Exit(1)


@app.command("backfill")
def backfill_cmd(
    start: str = typer.Option(..., "--from", help="First source day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--to", help="Last source day, inclusive."),
    strict: bool = typer.Option(False, help="Do not build the warehouse unless every entity loaded."),
) -> None:
    """Run the nights of a range of days in order, oldest first."""
    logging.basicConfig(level=logging.WARNING)
    first, last = _day(start), _day(end)
    if last < first:
        raise typer.BadParameter(f"--to {last} is before --from {first}")
    failed = [
        d for d in (first + timedelta(days=n) for n in range((last - first).days + 1)) if not _run(d, strict)
    ]
    if failed:
        console.print(f"[red]incomplete nights: {', '.join(map(str, failed))}[/]")
        raise typer.Exit(1)


@app.command("readmit")
def readmit_cmd(
    entity: str = typer.Option(..., "--entity", help="The source entity, system.entity (e.g. city.cases)."),
    load_date: str = typer.Option(None, "--date", help="Only rows quarantined that night (YYYY-MM-DD)."),
    rule: str = typer.Option(None, help="Only rows a rule caught, e.g. grid_code:references."),
) -> None:
    """Validate quarantined rows again; those that now pass load as a readmitted batch (next build)."""
    from expectations.readmit import readmit
    from ingest.contracts import get

    logging.basicConfig(level=logging.WARNING)
    try:
        contract = get(*entity.split(".", 1))
    except (KeyError, TypeError):
        raise typer.BadParameter(f"{entity!r} is no source entity (system.entity, e.g. city.cases)") from None
    outcome = readmit(contract, Paths.from_env(), _day(load_date) if load_date else None, rule)
    for batch in outcome.batches:
        console.print(f"{batch.batch_id}: {batch.message}")
    held = ", ".join(f"{r}: {n}" for r, n in sorted(outcome.still_failing.items())) or "none"
    console.print(
        f"{entity}: {outcome.rows_readmitted} of {outcome.rows_checked} pending quarantined rows readmitted; "
        f"still failing: {held}. They reach the warehouse with the next build (gridfusion run-night)."
    )


@app.command("rollback")
def rollback_cmd(
    release: str = typer.Option(
        None, help="A file name under releases/ (default: the one before the published)."
    ),
) -> None:
    """Publish an earlier release of the warehouse again, with its analytics export."""
    paths = Paths.from_env()
    chosen = paths.warehouse_dir / "releases" / release if release else None
    try:
        published = roll_back(chosen, paths)
    except LookupError as problem:
        console.print(f"[red]{problem}[/]")
        raise typer.Exit(1) from None
    console.print(f"published {published.name} again: {paths.warehouse}, {paths.analytics}")


@app.command("status")
def status_cmd(load_date: str = typer.Option(None, "--date", help="A night (default: the latest).")) -> None:
    """Show a night's summary and what is published."""
    paths = Paths.from_env()
    folder = paths.reports / "run_summary"
    nights = sorted(folder.glob("*.json")) if folder.exists() else []
    if load_date:
        nights = [n for n in nights if n.stem == _day(load_date).isoformat()]
    if not nights:
        console.print(f"no run summary found under {folder}")
        raise typer.Exit(1)
    print_summary(json.loads(nights[-1].read_text()), console)
    release = published_release(paths)
    console.print(
        f"published warehouse: {paths.warehouse} ({'present' if paths.warehouse.exists() else 'absent'}"
        + (f", release {release.name})" if release else ")")
    )


@app.command("identity-quality")
def identity_quality_cmd(
    truth: Path = typer.Option(None, help="The simulator's truth folder (default: <drops>/truth)."),
    warehouse: Path = typer.Option(None, help="The warehouse to score (default: the published one)."),
    out: Path = typer.Option(None, help="Where to write the JSON (default: reports/identity_quality.json)."),
) -> None:
    """Precision and recall of person resolution against the simulator's truth, over record pairs."""
    paths = Paths.from_env()
    warehouse = warehouse or paths.warehouse
    out = out or paths.reports / "identity_quality.json"
    quality = measure_warehouse(warehouse, truth or paths.drops / "truth", out)
    console.print(
        f"precision {quality.precision:.4f}  recall {quality.recall:.4f}  F1 {quality.f1:.4f}  "
        f"over {quality.true_pairs} true / {quality.predicted_pairs} predicted pairs"
    )
    console.print(
        f"{quality.persons} persons → {quality.person_keys} keys: {quality.persons_exact} exact, "
        f"{quality.persons_split} split, {quality.keys_merged} keys merging persons; "
        f"{quality.records_scored} records scored, {quality.records_only_in_warehouse} only in the "
        f"warehouse, {quality.records_only_in_truth} only in the truth"
    )
    console.print(f"written to {out}")


if __name__ == "__main__":
    app()
