"""Extract the city system's entities from its front-end processor database (前置机库, PostgreSQL).

Each city entity is a table named after it, holding the contract's source columns and ``updated_at
timestamptz``, the time the record last changed. An extract is written into ``drops/city/<date>/`` as the
file the contract describes (``cases.csv``, ``grids.geojson``, ...), so landing treats it exactly like a
dropped one. The address is a libpq connection string or URI in ``GRIDFUSION_CITY_DB_DSN`` (or a
SQLAlchemy URL ``postgresql+psycopg://...``); it is read through SQLAlchemy Core with the psycopg 3 driver.

* **Incremental** entities (cases, case steps) are read by watermark: the night for day D reads the rows
  with ``updated_at`` from a lookback (24 h) before the last night's high-water mark up to the end of D
  (Asia/Shanghai), and leaves out the (key, ``updated_at``) pairs already delivered. A row committed late
  with a stamp older than the high-water mark is so still delivered, once, as long as it is within the
  lookback; one older than that is missed (make the lookback longer than the longest write transaction
  or sync delay of the front-end DB).
* **Snapshot** entities (grids, grid workers) are read whole: the warehouse takes the newest snapshot as
  the complete list, and only a full read shows a record deleted at the source.
* **Schema drift**: the table's columns are compared with the contract before reading. Columns the
  contract does not know are extracted too (landing keeps them in ``_raw`` and reports them); a missing
  optional column is left out (landing reports it, its values are null); a missing required column fails
  the extract. The columns' database types go to the manifest, where a change from the last night shows.

Rows are streamed through a server-side cursor (``yield_per``) in one read-only, repeatable-read
transaction. A connection that drops is retried from the start, a few times with backoff, writing the
extract afresh; only a complete extract is delivered. The watermark advances (``advance_watermark``) only
after the batch has landed. Only the newest extracted night is extracted again when rerun; an older night
is replayed from the extract kept in its drop folder, because the database keeps only each record's
latest state.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import BinaryIO

import psycopg
import sqlalchemy as sa
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

from ingest.config import SHANGHAI, Paths
from ingest.connectors import watermark
from ingest.connectors.drop_writer import delivering
from ingest.contracts import Contract, for_system

DSN_ENV = "GRIDFUSION_CITY_DB_DSN"
CHANGE_STAMP = "updated_at"  # every table's change-time column
LOOKBACK = timedelta(hours=24)
CHUNK_ROWS = 5000
ATTEMPTS = 3  # a dropped connection is retried this often in all, waiting RETRY_DELAY, then twice that
RETRY_DELAY = timedelta(seconds=1)
DRIVER = "postgresql+psycopg"
ENTITIES = tuple(c.entity for c in for_system("city"))

log = logging.getLogger(__name__)


class CityDbError(RuntimeError):
    """The city DB could not deliver an extract; names the database (never its password) and the table."""


def table_name(contract: Contract) -> str:
    return contract.entity


def file_name(contract: Contract) -> str:
    """The one file an extract is delivered as, named to match the contract's file pattern."""
    return contract.file_glob.replace("*", "")


def end_of(load_date: date) -> datetime:
    """The end of a load date in Shanghai: the night for D extracts changes stamped before it."""
    return datetime.combine(load_date + timedelta(days=1), clock(), tzinfo=SHANGHAI)


@dataclass
class Extracted:
    entity: str
    load_date: date
    file: Path
    rows: int = 0
    skipped: int = 0  # rows in the lookback that an earlier night delivered already
    seconds: float = 0.0
    attempts: int = 0
    replayed: bool = False  # an older night: its kept extract is landed again, nothing read
    source_types: dict[str, str] = field(default_factory=dict)  # extracted column → its database type
    pending: watermark.Watermark | None = field(default=None, repr=False)

    def advance_watermark(self, paths: Paths) -> None:
        """Record how far this night extracted; call only once its batch has landed."""
        if self.pending is not None:
            watermark.save(paths.watermarks, self.pending)


def database_url(dsn: str) -> URL:
    """A SQLAlchemy URL for the psycopg 3 driver from a libpq connection string or URI (or such a URL)."""
    if "://" in dsn and not dsn.startswith(("postgresql://", "postgres://")):
        url = make_url(dsn)
        if url.drivername != DRIVER:
            raise ValueError(f"the city DB must be PostgreSQL through {DRIVER}, not {url.drivername}")
        return url
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as err:
        raise ValueError(f"an unreadable connection string for the city DB: {err}") from None
    port = parts.pop("port", None)
    return URL.create(
        DRIVER,
        username=parts.pop("user", None),
        password=parts.pop("password", None),
        host=parts.pop("host", None),
        port=int(port) if port and port.isdigit() else None,
        database=parts.pop("dbname", None),
        query={k: str(v) for k, v in parts.items()},
    )


def describe(dsn: str) -> str:
    """The database's address without its password, for messages."""
    try:
        url = database_url(dsn)
    except ValueError:
        return "(an unreadable connection string)"
    fields = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username}
    return " ".join(f"{k}={v}" for k, v in fields.items() if v)


def engine_for(dsn: str) -> sa.Engine:
    """One connection per extract, never pooled: a night opens a handful, and a retry wants a fresh one."""
    return sa.create_engine(
        database_url(dsn),
        poolclass=NullPool,
        connect_args={"connect_timeout": 10, "application_name": "gridfusion"},
    )


def extract_city_entity(
    contract: Contract,
    load_date: date,
    paths: Paths | None = None,
    dsn: str | None = None,
    lookback: timedelta = LOOKBACK,
    chunk_rows: int = CHUNK_ROWS,
    attempts: int = ATTEMPTS,
    retry_delay: timedelta = RETRY_DELAY,
) -> Extracted:
    """Extract one city entity for the night of ``load_date`` into ``drops/city/<date>/``.

    Raises ``CityDbError`` when the database cannot be reached or read; the drop folder and the watermark
    are then left as they were, and retrying the night later loses nothing.
    """
    paths = paths or Paths.from_env()
    dsn = dsn or os.environ.get(DSN_ENV)
    if not dsn:
        raise ValueError(f"no address for the city DB: pass dsn or set {DSN_ENV}")
    folder = paths.drop_dir(contract.system, load_date)
    extracted = Extracted(contract.entity, load_date, folder / file_name(contract))
    later = [n for n in watermark.nights(paths.watermarks, contract.system, contract.entity) if n > load_date]
    if later:
        if not extracted.file.exists():
            raise CityDbError(
                f"{contract.key} for {load_date}: no kept extract in {folder}, and the night of {later[0]} "
                "has been extracted since; its extract holds the changes of this day"
            )
        log.info(
            "%s for %s: replaying the kept extract (%s extracted later)", contract.key, load_date, later[0]
        )
        extracted.replayed = True
        return extracted

    previous = watermark.before(paths.watermarks, contract.system, contract.entity, load_date)
    engine = engine_for(dsn)
    started = time.perf_counter()
    try:
        while True:
            extracted.attempts += 1
            extracted.rows = extracted.skipped = 0
            try:
                with engine.connect() as con:
                    con = con.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                    extracted.pending = _stream(
                        con, contract, load_date, previous, lookback, chunk_rows, extracted
                    )
                break
            except exc.DBAPIError as err:
                if not _connection_lost(err) or extracted.attempts >= attempts:
                    raise
                wait = retry_delay.total_seconds() * 2 ** (extracted.attempts - 1)
                log.warning(
                    "%s: the city DB connection failed (%s); extracting again in %.0fs, attempt %d of %d",
                    contract.key,
                    _one_line(err.orig or err),
                    wait,
                    extracted.attempts + 1,
                    attempts,
                )
                time.sleep(wait)
    except exc.DBAPIError as err:
        if _connection_lost(err):
            raise CityDbError(
                f"city DB ({describe(dsn)}) unreachable while extracting {contract.key} for {load_date}: "
                f"{_one_line(err.orig or err)} (tried {extracted.attempts} time(s)); nothing was delivered "
                "and the watermark was not moved, so a retry loses nothing"
            ) from err
        raise CityDbError(
            f"city DB ({describe(dsn)}), table {table_name(contract)!r}: cannot extract {contract.key} "
            f"v{contract.version} for {load_date}: {_one_line(err.orig or err)}"
        ) from err
    finally:
        engine.dispose()
    extracted.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "extracted %s for %s from the city DB: %d rows (%d already delivered left out) in %.2fs, %.0f rows/s → %s",
        contract.key,
        load_date,
        extracted.rows,
        extracted.skipped,
        extracted.seconds,
        extracted.rows / max(extracted.seconds, 1e-9),
        extracted.file,
    )
    return extracted


def _connection_lost(err: exc.DBAPIError) -> bool:
    return err.connection_invalidated or isinstance(err, exc.OperationalError)


def table_columns(con: Connection, contract: Contract, dsn_text: str = "") -> dict[str, str]:
    """The table's columns and their database types, in table order."""
    try:
        found = sa.inspect(con).get_columns(table_name(contract))
    except exc.NoSuchTableError:
        raise CityDbError(
            f"city DB{dsn_text}: no table {table_name(contract)!r} to extract {contract.key} from"
        ) from None
    return {c["name"]: str(c["type"]) for c in found}


def columns_to_extract(contract: Contract, present: dict[str, str]) -> list[str]:
    """The contract's source columns the table has, then those it does not know (schema drift, kept).

    A missing required column fails the extract; a missing optional one is left out for landing to report.
    """
    missing = [c.source for c in contract.columns if c.source not in present and c.required]
    if missing:
        raise CityDbError(
            f"city DB table {table_name(contract)!r} lacks column(s) {missing} required by contract "
            f"{contract.key} v{contract.version}; it has {list(present)}"
        )
    known = [c.source for c in contract.columns if c.source in present]
    return known + [name for name in present if name not in known and name != CHANGE_STAMP]


def _stream(
    con: Connection,
    contract: Contract,
    load_date: date,
    previous: watermark.Watermark | None,
    lookback: timedelta,
    chunk_rows: int,
    extracted: Extracted,
) -> watermark.Watermark:
    """Write the extract while reading it; returns the watermark to keep once it has landed."""
    present = table_columns(con, contract)
    columns = columns_to_extract(contract, present)
    extracted.source_types = {name: present[name] for name in columns}
    key_at = [columns.index(contract.column(k).source) for k in contract.primary_key]
    incremental = contract.extract == "incremental"
    high_water = previous.high_water_time() if previous and incremental else None
    since = watermark.lookback_start(high_water, lookback)
    until = end_of(load_date) if incremental else None
    seen = previous.seen_pairs() if previous and incremental else set()
    recent: deque[tuple[datetime, list[str]]] = deque()  # pairs delivered now that the next lookback covers

    stamp = sa.column(CHANGE_STAMP)
    query = sa.select(*map(sa.column, columns), stamp).select_from(sa.table(table_name(contract)))
    if since is not None:
        query = query.where(stamp >= since)
    if until is not None:
        query = query.where(stamp < until)
    order = [stamp] if incremental else []
    query = query.order_by(*order, *(sa.column(columns[i]) for i in key_at))
    write = _WRITERS[contract.format]
    with delivering(extracted.file.parent, extracted.file.name, contract.file_glob) as out:
        result = con.execution_options(yield_per=chunk_rows).execute(query)

        def records():
            for *values, changed in result:
                stamped = changed.astimezone(UTC).isoformat()
                pair = [str(values[i]) for i in key_at] + [stamped]
                if incremental and tuple(pair) in seen:
                    extracted.skipped += 1
                    continue
                extracted.rows += 1
                if incremental:
                    recent.append((changed, pair))
                    while recent[0][0] < changed - lookback:
                        recent.popleft()
                yield [_text(value) for value in values]

        write(out, columns, records())
        con.commit()  # the read ends cleanly before the file is delivered, or nothing is delivered

    if recent:
        high_water = max(high_water or recent[-1][0], recent[-1][0])
    keep_from = watermark.lookback_start(high_water, lookback)
    carried = previous.seen_since(keep_from) if previous and incremental and keep_from else []
    return watermark.Watermark(
        system=contract.system,
        entity=contract.entity,
        load_date=load_date.isoformat(),
        high_water=high_water.astimezone(UTC).isoformat() if high_water else None,
        seen=carried + [pair for changed, pair in recent if changed >= keep_from],
        rows=extracted.rows,
        window=[since.isoformat() if since else None, until.isoformat() if until else None],
    )


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())


def _text(value) -> str:
    """A value as the source system writes it in a file: its change stamp as Shanghai local time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"
    return str(value)


def _write_csv(out: BinaryIO, columns: list[str], records) -> None:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(records)
    text.flush()
    text.detach()


def _write_geojson(out: BinaryIO, columns: list[str], records) -> None:
    """A FeatureCollection; the ``geometry`` column holds each feature's geometry as GeoJSON text."""
    out.write(b'{"type": "FeatureCollection", "features": [')
    for number, record in enumerate(records):
        properties = dict(zip(columns, record, strict=True))
        geometry = json.loads(properties.pop("geometry") or "null")
        feature = {"type": "Feature", "properties": properties, "geometry": geometry}
        out.write((b", " if number else b"") + json.dumps(feature, ensure_ascii=False).encode())
    out.write(b"]}")


_WRITERS = {"csv": _write_csv, "geojson": _write_geojson}
