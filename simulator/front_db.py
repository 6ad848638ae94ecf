"""The city system's front-end processor database (前置机库), filled from the simulated drops day by day.

Many city-grid systems are only reachable through a PostgreSQL copy of their tables. Here each city entity
is one table named after it, with the contract's source columns as text (the sync job copies the business
system's values as they are, unreadable report times included) and ``updated_at timestamptz``, the time
the record last changed. Applying a day replays that day's extract as the business system's writes:
incremental entities are upserted by key (a case's later state overwrites its row), snapshot entities are
upserted and the records missing from the snapshot deleted. Each day is one transaction, and the days
applied are kept in ``sim_loaded_days`` so a database can be advanced one day at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import psycopg
from psycopg import sql

from ingest.config import SHANGHAI
from ingest.connectors.postgres_source import CHANGE_STAMP, table_name
from ingest.contracts import Contract, for_system
from ingest.readers import read_extract

ENTITIES = for_system("city")


def _key(contract: Contract) -> list[str]:
    return [contract.column(k).source for k in contract.primary_key]


def _columns(contract: Contract) -> list[str]:
    """The table's columns: the contract's source columns, then the change stamp unless a source column is it."""
    names = [c.source for c in contract.columns]
    return names if CHANGE_STAMP in names else [*names, CHANGE_STAMP]


def create_tables(con: psycopg.Connection) -> None:
    con.execute(
        "create table if not exists sim_loaded_days (day date primary key, loaded_at timestamptz not null)"
    )
    for contract in ENTITIES:
        columns = [
            sql.SQL("{} {}").format(
                sql.Identifier(name), sql.SQL("timestamptz not null" if name == CHANGE_STAMP else "text")
            )
            for name in _columns(contract)
        ]
        columns.append(
            sql.SQL("primary key ({})").format(sql.SQL(", ").join(map(sql.Identifier, _key(contract))))
        )
        table = sql.Identifier(table_name(contract))
        con.execute(sql.SQL("create table if not exists {} ({})").format(table, sql.SQL(", ").join(columns)))
        con.execute(
            sql.SQL("create index if not exists {} on {} ({})").format(
                sql.Identifier(f"{table_name(contract)}_{CHANGE_STAMP}"), table, sql.Identifier(CHANGE_STAMP)
            )
        )


def _records(contract: Contract, drop: Path) -> pd.DataFrame:
    files = sorted(drop.glob(contract.file_glob))
    if not files:
        raise FileNotFoundError(f"no {contract.file_glob} in {drop}")
    raw = read_extract(files, contract)
    change = contract.column(contract.change_time).source
    stamp = pd.to_datetime(raw[change], format="%Y-%m-%d %H:%M:%S").dt.tz_localize(SHANGHAI)
    if CHANGE_STAMP not in (c.source for c in contract.columns):
        # The stamp is the table's own write time: a step that reached the system late (a closure days after
        # it happened) is written the day its extract carries it, not at the older time inside it.
        written = pd.Timestamp(date.fromisoformat(drop.name), tz=SHANGHAI)
        stamp = stamp.where(stamp >= written, written)
    # An empty field is a NULL in the table.
    values = raw[[c.source for c in contract.columns]].astype(object).replace("", None)
    return values.assign(**{CHANGE_STAMP: stamp})[_columns(contract)]


def _apply(con: psycopg.Connection, contract: Contract, records: pd.DataFrame) -> None:
    table, key, columns = table_name(contract), _key(contract), _columns(contract)
    ident = lambda names: sql.SQL(", ").join(map(sql.Identifier, names))  # noqa: E731
    con.execute(sql.SQL("create temp table incoming (like {})").format(sql.Identifier(table)))
    with con.cursor().copy(sql.SQL("copy incoming ({}) from stdin").format(ident(columns))) as copy:
        for row in records.itertuples(index=False):
            copy.write_row(row)
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in columns if c not in key
    )
    con.execute(
        sql.SQL(
            "insert into {table} ({columns}) select distinct on ({key}) {columns} from incoming"
            " order by {key}, {stamp} desc on conflict ({key}) do update set {updates}"
            " where ({table}.*) is distinct from (excluded.*)"
        ).format(
            table=sql.Identifier(table),
            columns=ident(columns),
            key=ident(key),
            stamp=sql.Identifier(CHANGE_STAMP),
            updates=updates,
        )
    )
    if contract.extract == "snapshot":  # a record gone from the snapshot is gone from the system
        con.execute(
            sql.SQL("delete from {} t where not exists (select from incoming i where ({}) = ({}))").format(
                sql.Identifier(table),
                sql.SQL(", ").join(sql.SQL("i.{}").format(sql.Identifier(k)) for k in key),
                sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(k)) for k in key),
            )
        )
    con.execute("drop table incoming")


def days_in(drops: Path) -> list[date]:
    return sorted(date.fromisoformat(p.name) for p in (drops / "city").iterdir() if p.is_dir())


def load_through(
    dsn: str,
    drops: Path,
    through: date | None = None,
    on_day: Callable[[date], None] = lambda day: None,
) -> list[date]:
    """Apply every day of ``drops/city/`` up to ``through`` (default: all) not applied yet; returns those applied.

    ``on_day(day)`` is called after each day, for progress display.
    """
    applied = []
    with psycopg.connect(dsn) as con:
        create_tables(con)
        con.commit()
        done = {row[0] for row in con.execute("select day from sim_loaded_days")}
        for day in days_in(drops):
            if through is not None and day > through:
                break
            if day not in done:
                for contract in ENTITIES:
                    _apply(con, contract, _records(contract, drops / "city" / day.isoformat()))
                con.execute("insert into sim_loaded_days values (%s, %s)", (day, datetime.now(SHANGHAI)))
                con.commit()
                applied.append(day)
            on_day(day)
    return applied
