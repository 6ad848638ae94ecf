"""Backfilling a range of nights through the Airflow scheduler: oldest first, one warehouse writer at a time.

A backfill's runs are limited by the backfill's own ``max_active_runs`` (Airflow's default is 10), not by
the DAG's, so the command always asks for one run at a time: each night then lands, builds and publishes
before the next one starts. Independently of that, ``build_warehouse`` and ``publish`` take the single
slot of the ``duckdb_writer`` pool, so a backfill night and the scheduled night never write at once.
"""

from __future__ import annotations

from datetime import date, datetime, time

from ingest.config import SHANGHAI

NIGHTLY_DAG = "gridfusion_nightly"
WRITER_POOL = "duckdb_writer"
WRITER_POOL_DESCRIPTION = "One DuckDB writer at a time: the warehouse build and publish of any nightly run."


def backfill_window(first: date, last: date) -> tuple[str, str]:
    """The logical-date window of the scheduled runs that load the source days ``first`` .. ``last``.

    A scheduled run's logical date is the start of its data interval, 02:00 Shanghai time on the day it
    loads; the window spans those days whole, so it does not depend on the hour of the schedule.
    """
    if last < first:
        raise ValueError(f"the last day {last} is before the first day {first}")
    return (
        datetime.combine(first, time.min, tzinfo=SHANGHAI).isoformat(),
        datetime.combine(last, time.max.replace(microsecond=0), tzinfo=SHANGHAI).isoformat(),
    )


def backfill_command(first: date, last: date, reprocess: str = "none") -> list[str]:
    """``airflow`` arguments that queue the nights ``first`` .. ``last`` to run in order, one at a time.

    ``reprocess`` is Airflow's ``--reprocess-behavior``: ``none`` runs only nights that never ran,
    ``failed`` also reruns failed ones, ``completed`` reruns every night of the range.
    """
    start, end = backfill_window(first, last)
    return [
        "backfill",
        "create",
        "--dag-id",
        NIGHTLY_DAG,
        "--from-date",
        start,
        "--to-date",
        end,
        "--max-active-runs",
        "1",
        "--reprocess-behavior",
        reprocess,
    ]


def pool_command() -> list[str]:
    """``airflow`` arguments that create (or reset) the one-slot ``duckdb_writer`` pool."""
    return ["pools", "set", WRITER_POOL, "1", WRITER_POOL_DESCRIPTION]
