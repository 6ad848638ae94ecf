"""The city system read from its front-end PostgreSQL DB, on a real server: nights, watermark, late rows, outage."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from ingest import manifest
from ingest.config import Paths, partition
from ingest.connectors import postgres_source, watermark
from ingest.connectors.postgres_source import DSN_ENV, CityDbError
from ingest.contracts import for_system, get
from simulator.cli import app as sim
from simulator.front_db import load_through
from tests.conftest import DAYS, START
from tests.pg_cluster import Cluster, ClusterError
from warehouse.night import land_entity, run_night

NIGHTS = [START + timedelta(days=n) for n in range(DAYS)]
CASES, STEPS = get("city", "cases"), get("city", "case_steps")
CITY = for_system("city")


def start_cluster() -> Cluster:
    try:
        cluster = Cluster()
        cluster.start()
    except ClusterError as err:
        pytest.fail(f"cannot start a PostgreSQL server for the city DB tests: {err}")
    return cluster


@pytest.fixture(scope="module")
def pg():
    cluster = start_cluster()
    yield cluster
    cluster.remove()


def other_systems_only(tiny_drops: Path, target: Path) -> Path:
    """The tiny drops without the city system's files: the city DB is then its only way in."""
    shutil.copytree(
        tiny_drops, target, ignore=lambda folder, names: ["city"] if folder == str(tiny_drops) else []
    )
    return target


def dropped_keys(tiny_drops: Path, contract, night: date) -> set[tuple[str, ...]]:
    """Keys of the records the simulator's file drop of that day holds: what changed that day."""
    with open(
        tiny_drops / "city" / night.isoformat() / contract.file_glob.replace("*", ""), encoding="utf-8"
    ) as f:
        return {
            tuple(row[contract.column(k).source] for k in contract.primary_key) for row in csv.DictReader(f)
        }


def landed(paths: Paths, contract, night: date) -> pd.DataFrame:
    batch = manifest.latest(paths.manifest, contract.system, contract.entity, night)
    return pd.read_parquet(partition(paths.landing_parquet, contract, night) / f"{batch.batch_id}.parquet")


def landed_keys(paths: Paths, contract, night: date) -> list[tuple[str, ...]]:
    frame = landed(paths, contract, night)
    return list(zip(*(frame[k].astype(str) for k in contract.primary_key), strict=True))


def rows_in(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as con:
        return con.execute(f"select count(*) from {table}").fetchall()[0][0]


@dataclass(frozen=True)
class Nights:
    paths: Paths
    dsn: str
    summaries: dict[date, dict]
    load_db_output: list[str]


def city_batches(paths: Paths) -> list[manifest.Batch]:
    return [b for c in for_system("city") for b in manifest.batches(paths.manifest, c.system, c.entity)]


@pytest.fixture(scope="module")
def city_db_env(pg, tiny_drops, tmp_path_factory):
    """The environment of a gridfusion home whose city system is only reachable through its DB."""
    root = tmp_path_factory.mktemp("city-db")
    dsn = pg.create_database("frontend")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRIDFUSION_HOME", str(root / "home"))
        env.setenv("GRIDFUSION_DROPS", str(other_systems_only(tiny_drops, root / "drops")))
        env.setenv(DSN_ENV, dsn)
        yield Paths.from_env(), dsn


@pytest.fixture(scope="module")
def nights(city_db_env, tiny_drops) -> Nights:
    """Three whole nights (land, validate, build, publish) with the city DB advanced one day before each."""
    paths, dsn = city_db_env
    outputs, summaries = [], {}
    for night in NIGHTS:
        done = CliRunner().invoke(sim, ["load-db", "--drops", str(tiny_drops), "--through", str(night)])
        assert done.exit_code == 0, done.output
        outputs.append(done.output)
        summaries[night] = run_night(night, paths)
    return Nights(paths, dsn, summaries, outputs)


def test_load_db_advances_the_front_end_db_one_day_at_a_time(nights, tiny_drops):
    assert all(
        f"applied 1 day(s), {night} to {night}" in out
        for night, out in zip(NIGHTS, nights.load_db_output, strict=True)
    )
    again = CliRunner().invoke(sim, ["load-db", "--drops", str(tiny_drops), "--dsn", nights.dsn])
    assert again.exit_code == 0 and "applied nothing new" in again.output
    with psycopg.connect(nights.dsn) as con:
        days = [r[0] for r in con.execute("select day from sim_loaded_days order by day")]
        stamp = con.execute(
            "select data_type from information_schema.columns where table_name = 'cases' and column_name = 'updated_at'"
        ).fetchall()[0][0]
    assert days == NIGHTS
    assert stamp == "timestamp with time zone"


def test_nights_from_the_city_db_match_the_truth(nights, truth):
    for night, summary in nights.summaries.items():
        status = {e["source_entity"]: e["status"] for e in summary["entities"]}
        assert set(status.values()) <= {"accepted", "duplicate"}, (night, status)
        assert summary["published"], night
    counts = truth.summary["counts"]
    with duckdb.connect(str(nights.paths.warehouse), read_only=True) as con:
        grid_cases = dict(
            con.sql(
                "select grid_code, count(*) from marts.fct_case where origin_system = 'city' group by 1"
            ).fetchall()
        )
        closed_keys = {
            key
            for (key,) in con.sql(
                "select case_key from marts.fct_case where origin_system = 'city' and is_closed"
            ).fetchall()
        }
        workers = con.sql("select count(*) from staging.stg_city__grid_workers").fetchall()[0][0]
        grids = con.sql("select count(*) from marts.dim_grid where is_current").fetchall()[0][0]
    expected = truth.table("cases").query("origin_system == 'city' and dirty_rule == ''")
    assert grid_cases == expected.groupby("grid_code").size().to_dict()
    assert len(closed_keys) == int(expected["closed"].sum())
    # a closure written to the DB days after it happened is picked up by the watermark the night it is written
    late = expected[
        expected["closed"] & (expected["closure_delivered_at"].dt.date > expected["closed_at"].dt.date)
    ]
    assert len(late) and set(late["case_key"]) <= closed_keys
    assert workers == counts["city.grid_workers"] and grids == counts["city.grids"]
    quarantined = pd.read_parquet(nights.paths.quarantine / "city" / "cases", columns=["case_no", "_rules"])
    dirty = truth.table("cases").query("dirty_rule != ''")
    assert set(quarantined["case_no"]) == set(
        dirty["case_key"]
    )  # the unreadable report times, from the DB too


@pytest.mark.parametrize("contract", [CASES, STEPS], ids=lambda c: c.entity)
def test_each_night_extracts_only_the_rows_changed_that_day(nights, tiny_drops, contract):
    for night in NIGHTS:
        keys = landed_keys(nights.paths, contract, night)
        assert len(keys) == len(set(keys))  # nothing delivered twice within a night
        assert set(keys) == dropped_keys(tiny_drops, contract, night), night
        mark = watermark.read(nights.paths.watermarks, "city", contract.entity, night)
        assert mark.rows == len(keys)
    later = [len(landed_keys(nights.paths, contract, n)) for n in NIGHTS[1:]]
    assert all(n < rows_in(nights.dsn, contract.entity) for n in later)  # not the whole table again


def test_rerunning_a_night_lands_nothing_new(nights):
    """The last night extracts the same rows again; an older one lands the extract kept in its drop folder."""
    before = city_batches(nights.paths)
    marks = [watermark.read(nights.paths.watermarks, c.system, c.entity, n) for c in CITY for n in NIGHTS]
    for night in (NIGHTS[-1], START):
        for contract in CITY:
            assert land_entity(contract, night, nights.paths).already_landed, (contract.key, night)
    assert city_batches(nights.paths) == before
    assert [
        watermark.read(nights.paths.watermarks, c.system, c.entity, n) for c in CITY for n in NIGHTS
    ] == marks


@pytest.fixture
def city_db_home(tmp_path, monkeypatch) -> Paths:
    """A fresh gridfusion home whose city drops only the DB extract delivers."""
    monkeypatch.setenv("GRIDFUSION_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDFUSION_DROPS", str(tmp_path / "drops"))
    return Paths.from_env()


def test_a_row_committed_late_with_an_older_stamp_is_delivered_once(
    pg, tiny_drops, city_db_home, monkeypatch
):
    dsn = pg.create_database("late")
    monkeypatch.setenv(DSN_ENV, dsn)
    day1, day2, day3 = NIGHTS
    load_through(dsn, tiny_drops, day2)
    for night in (day1, day2):
        land_entity(CASES, night, city_db_home)
    high_water = watermark.read(city_db_home.watermarks, "city", "cases", day2).high_water_time()
    with psycopg.connect(dsn) as con:  # a transaction that began before night 2's extract commits after it
        for case_no, age in (("AJLATE000001", timedelta(hours=2)), ("AJLATE000002", timedelta(hours=25))):
            con.execute(
                "insert into cases select %s, grid_code, source, category, item, reporter_phone, hotline_order_no,"
                " reported_at, deadline_at, closed_at, status, resolved_level, deleted_at, %s from cases limit 1",
                (case_no, high_water - age),
            )
    load_through(dsn, tiny_drops, day3)
    land_entity(CASES, day3, city_db_home)

    keys = [k for (k,) in landed_keys(city_db_home, CASES, day3)]
    assert len(keys) == len(set(keys))
    # Within the 24-hour lookback the late row is delivered, and the rows night 2 delivered are not again.
    assert set(keys) == {k for (k,) in dropped_keys(tiny_drops, CASES, day3)} | {"AJLATE000001"}
    # The documented limit: a row committed later than the lookback after its stamp is not found.
    assert "AJLATE000002" not in keys
    assert land_entity(CASES, day3, city_db_home).already_landed  # and the rerun extracts the same


def test_the_city_db_being_down_fails_clearly_and_loses_nothing(tiny_drops, city_db_home, monkeypatch):
    cluster = start_cluster()
    try:
        dsn = cluster.create_database("outage")
        monkeypatch.setenv(DSN_ENV, dsn)
        day1, day2 = NIGHTS[:2]
        load_through(dsn, tiny_drops, day2)
        first = land_entity(CASES, day1, city_db_home).batch
        cluster.stop()
        with pytest.raises(
            CityDbError,
            match=rf"^city DB \(host={cluster.folder} port={cluster.port} dbname=outage user=gridfusion\) "
            rf"unreachable while extracting city.cases for {day2}: .*No such file or directory.*"
            "nothing was delivered and the watermark was not moved, so a retry loses nothing$",
        ):
            land_entity(CASES, day2, city_db_home)
        assert manifest.batches(city_db_home.manifest, "city", "cases") == [first]
        assert watermark.nights(city_db_home.watermarks, "city", "cases") == [day1]
        assert sorted(p.name for p in (city_db_home.drops / "city").iterdir()) == [str(day1)]  # no halves
        cluster.start()  # the land task's retry, once the DB is back
        retried = land_entity(CASES, day2, city_db_home).batch
    finally:
        cluster.remove()
    assert retried.status == "landed"
    assert {k for (k,) in landed_keys(city_db_home, CASES, day2)} == {
        k for (k,) in dropped_keys(tiny_drops, CASES, day2)
    }


def test_a_connection_lost_in_the_middle_of_an_extract_delivers_nothing(
    pg, tiny_drops, city_db_home, monkeypatch
):
    dsn = pg.create_database("cut")
    load_through(dsn, tiny_drops, START)
    write_csv = postgres_source._WRITERS["csv"]

    def cut_after_the_first_chunk(out, columns, records):
        def cut():
            for number, record in enumerate(records):
                if number == 5:  # the server is gone while later chunks are still to come
                    with psycopg.connect(dsn, autocommit=True) as admin:
                        admin.execute(
                            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'gridfusion'"
                        )
                yield record

        write_csv(out, columns, cut())

    monkeypatch.setitem(postgres_source._WRITERS, "csv", cut_after_the_first_chunk)
    with pytest.raises(
        CityDbError, match=r"unreachable while extracting city.cases for 2026-11-01: .*terminat"
    ):
        postgres_source.extract_city_entity(CASES, START, city_db_home, dsn=dsn, chunk_rows=5)
    assert not (city_db_home.drop_dir("city", START) / "cases.csv").exists()
    assert list((city_db_home.drops / "city").iterdir()) == []  # no staging folder left behind either
    assert watermark.nights(city_db_home.watermarks, "city", "cases") == []


def test_messages_name_the_database_but_never_its_password():
    assert postgres_source.describe("postgresql://reader:s3cret@10.0.0.5:5433/frontend") == (
        "host=10.0.0.5 port=5433 dbname=frontend user=reader"
    )
    assert "s3cret" not in postgres_source.describe("host=db user=reader password=s3cret dbname=frontend")


def test_the_readme_connection_forms_become_psycopg_urls():
    uri = postgres_source.database_url(
        "postgresql://gridfusion_reader@10.0.0.5:5432/frontend?options=-csearch_path%3Dcity"
    )
    assert (uri.drivername, uri.host, uri.port, uri.database, uri.username) == (
        "postgresql+psycopg",
        "10.0.0.5",
        5432,
        "frontend",
        "gridfusion_reader",
    )
    assert dict(uri.query) == {"options": "-csearch_path=city"}
    keywords = postgres_source.database_url(
        "host=/run/pg port=5544 dbname=frontend user=reader password=s3cret"
    )
    assert (keywords.host, keywords.port, keywords.database, keywords.password) == (
        "/run/pg",
        5544,
        "frontend",
        "s3cret",
    )
    given = "postgresql+psycopg://reader@db:5432/frontend"
    assert postgres_source.database_url(given).render_as_string() == given
    with pytest.raises(ValueError, match=r"through postgresql\+psycopg, not mysql\+pymysql"):
        postgres_source.database_url("mysql+pymysql://reader@db/frontend")
    assert postgres_source.describe("postgresql+psycopg://reader:s3cret@db/frontend") == (
        "host=db dbname=frontend user=reader"
    )


def test_a_connection_dropped_once_is_retried_and_delivers_every_row_once(
    pg, tiny_drops, city_db_home, monkeypatch
):
    dsn = pg.create_database("dropped_once")
    load_through(dsn, tiny_drops, START)
    parts = conninfo_to_dict(dsn)  # and reached by the URI form, socket folder as a parameter
    uri = f"postgresql://{parts['user']}@/{parts['dbname']}?host={parts['host']}&port={parts['port']}"
    write_csv, cuts = postgres_source._WRITERS["csv"], []

    def cut_once(out, columns, records):
        def cut():
            for number, record in enumerate(records):
                if number == 5 and not cuts:
                    cuts.append(number)
                    with psycopg.connect(dsn, autocommit=True) as admin:
                        admin.execute(
                            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'gridfusion'"
                        )
                yield record

        write_csv(out, columns, cut())

    monkeypatch.setitem(postgres_source._WRITERS, "csv", cut_once)
    extracted = postgres_source.extract_city_entity(
        CASES, START, city_db_home, dsn=uri, chunk_rows=5, retry_delay=timedelta(0)
    )
    assert cuts and extracted.attempts == 2
    with open(extracted.file, encoding="utf-8") as f:
        keys = [(row["case_no"],) for row in csv.DictReader(f)]
    assert len(keys) == len(set(keys)) == extracted.rows
    assert set(keys) == dropped_keys(tiny_drops, CASES, START)


def test_columns_added_dropped_or_retyped_in_the_city_db_are_reported_as_drift(
    pg, tiny_drops, city_db_home, monkeypatch
):
    dsn = pg.create_database("drift")
    monkeypatch.setenv(DSN_ENV, dsn)
    day1, day2, day3 = NIGHTS
    load_through(dsn, tiny_drops, day1)
    first = land_entity(CASES, day1, city_db_home).batch
    assert first.source_types["case_no"] == "TEXT"
    assert (first.extra_columns, first.missing_columns, first.type_changes) == ([], [], {})

    load_through(dsn, tiny_drops, day2)
    with psycopg.connect(dsn) as con:  # a source upgrade: a new column, a column retyped
        con.execute("alter table cases add column remark text default '备注'")
        con.execute("alter table cases alter column resolved_level type varchar(8)")
    second = land_entity(CASES, day2, city_db_home).batch
    assert (second.extra_columns, second.missing_columns) == (["remark"], [])
    assert second.type_changes == {"resolved_level": "TEXT → VARCHAR(8)"}
    frame = landed(city_db_home, CASES, day2)
    assert {k for (k,) in landed_keys(city_db_home, CASES, day2)} == {
        k for (k,) in dropped_keys(tiny_drops, CASES, day2)
    }
    assert {json.loads(raw)["remark"] for raw in frame["_raw"]} == {"备注"}  # kept in the lineage column

    load_through(dsn, tiny_drops, day3)
    with psycopg.connect(dsn) as con:  # and the next: the new column gone again, an optional one dropped
        con.execute("alter table cases drop column remark")
        con.execute("alter table cases drop column item")
    third = land_entity(CASES, day3, city_db_home).batch
    assert (third.status, third.extra_columns, third.missing_columns) == ("landed", [], ["item"])
    assert landed(city_db_home, CASES, day3)["item"].isna().all()

    with psycopg.connect(dsn) as con:
        con.execute("alter table cases drop column category")
    with pytest.raises(
        CityDbError,
        match=r"table 'cases' lacks column\(s\) \['category'\] required by contract city.cases v\d+",
    ):
        postgres_source.extract_city_entity(CASES, day3, city_db_home)
