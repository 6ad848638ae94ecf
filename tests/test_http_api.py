"""The gov API connector against the simulator's real HTTP server: same bytes, retries, timeouts, no halves."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from ingest.config import REPO_ROOT, Paths, partition
from ingest.connectors.gov_api import ENTITIES, TOKEN_ENV, URL_ENV, fetch_gov_extracts
from ingest.connectors.paged_api import FetchError, RetryPolicy, retry_after_seconds
from ingest.contracts import get
from ingest.landing import land
from simulator.server import Faults, GovApiServer

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DAY1 = date(2026, 11, 1)
RESIDENTS = get("gov", "residents")
QUICK = RetryPolicy(attempts=4, backoff_s=0.01, backoff_max_s=0.05, request_timeout_s=5, total_timeout_s=30)
PAGE_URL = r"GET http://127\.0\.0\.1:\d+/api/{entity}\?date=2026-11-01&page={page} failed on page {page}: "


@contextmanager
def serving(drops: Path, faults: Faults | None = None) -> Iterator[GovApiServer]:
    server = GovApiServer(("127.0.0.1", 0), drops, TOKEN, faults)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def api(tiny_drops) -> Iterator[GovApiServer]:
    with serving(tiny_drops) as server:
        yield server


@pytest.fixture
def fetched_home(tmp_path, monkeypatch) -> Paths:
    """A fresh gridfusion home whose drop folder holds only what the connector delivers."""
    monkeypatch.setenv("GRIDFUSION_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDFUSION_DROPS", str(tmp_path / "fetched"))
    return Paths.from_env()


def fetch(server: GovApiServer, paths: Paths, token: str = TOKEN, policy: RetryPolicy = QUICK, day=DAY1):
    return fetch_gov_extracts(day, base_url=server.url, token=token, paths=paths, policy=policy)


def pages_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*_page_*.json"))}


def delivered(paths: Paths) -> list[str]:
    """Every file and hidden folder under the drops root: what landing, or a person, would come across."""
    if not paths.drops.exists():
        return []
    found = paths.drops.rglob("*")
    return sorted(str(p.relative_to(paths.drops)) for p in found if p.is_file() or p.name.startswith("."))


def records_in(folder: Path, entity: str) -> int:
    return sum(len(json.loads(p.read_bytes())["data"]["records"]) for p in folder.glob(f"{entity}_page_*"))


def test_a_fetched_extract_is_the_dropped_one_and_lands_the_same(tiny_drops, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDFUSION_DROPS", str(tiny_drops))
    from_files = {e: land(get("gov", e), DAY1, Paths(tmp_path / "files-home")).batch for e in ENTITIES}

    monkeypatch.setenv("GRIDFUSION_DROPS", str(tmp_path / "fetched"))
    paths = Paths(tmp_path / "api-home")
    with serving(tiny_drops) as server:
        monkeypatch.setenv(URL_ENV, server.url)
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        fetched = {f.entity: f for f in fetch_gov_extracts(DAY1, paths=paths, policy=QUICK)}

    served = tiny_drops / "gov" / DAY1.isoformat()
    assert pages_in(paths.drop_dir("gov", DAY1)) == pages_in(served)  # byte for byte, same names
    assert server.counts == {200: len(pages_in(served))}
    assert len(fetched["residents"].files) > 2  # paging was followed, not just page 1
    for entity in ENTITIES:
        from_api = land(get("gov", entity), DAY1, paths).batch
        assert from_api.status == from_files[entity].status == "landed"
        assert from_api.rows_read == from_files[entity].rows_read == fetched[entity].records
        assert fetched[entity].records == records_in(served, entity) > 0
        assert from_api.checksum == from_files[entity].checksum
        assert fetched[entity].retries == 0


def test_a_wrong_token_is_refused_with_a_clear_401(api, fetched_home):
    with pytest.raises(
        FetchError,
        match=PAGE_URL.format(entity="residents", page=1)
        + r"HTTP 401 Unauthorized \(the bearer token was refused\)$",
    ) as refused:
        fetch(api, fetched_home, token="not-the-token")
    assert refused.value.status == 401
    assert api.counts == {401: 1}  # refused at once: a wrong token does not get better by retrying
    assert delivered(fetched_home) == []
    for header in ({}, {"Authorization": TOKEN}, {"Authorization": "Bearer tökén".encode()}):
        assert httpx.get(f"{api.url}/api/residents?date=2026-11-01", headers=header).status_code == 401


def test_injected_429s_and_503s_are_retried_until_every_page_arrives(tiny_drops, fetched_home):
    retry_after_s = 1
    with serving(tiny_drops, Faults(rate=0.3, seed=5, retry_after_s=retry_after_s)) as server:
        started = time.monotonic()
        fetched = fetch(server, fetched_home)
        elapsed = time.monotonic() - started

    served = tiny_drops / "gov" / DAY1.isoformat()
    assert server.counts[429] >= 1 and server.counts[503] >= 1
    assert server.counts[200] == len(pages_in(served))
    assert sum(f.retries for f in fetched) == server.counts[429] + server.counts[503]
    # QUICK backs off for milliseconds: only waiting out each 429's Retry-After takes this long
    assert elapsed >= server.counts[429] * retry_after_s
    assert pages_in(fetched_home.drop_dir("gov", DAY1)) == pages_in(served)


def test_a_page_failing_beyond_the_retry_budget_is_named_and_nothing_is_delivered(tiny_drops, fetched_home):
    with (
        serving(tiny_drops, Faults(failing_pages=frozenset({("residents", 3)}))) as server,
        pytest.raises(
            FetchError,
            match=PAGE_URL.format(entity="residents", page=3)
            + r"HTTP 503 Service Unavailable; gave up after 4 attempt\(s\)$",
        ) as failed,
    ):
        fetch(server, fetched_home)
    assert failed.value.status == 503 and failed.value.page == 3
    assert server.counts == {200: 2, 503: QUICK.attempts}  # pages 1 and 2 arrived ...
    assert delivered(fetched_home) == []  # ... and were not delivered without the rest


def test_a_failed_refetch_leaves_the_earlier_delivery_and_its_landing_alone(tiny_drops, fetched_home):
    with serving(tiny_drops) as server:
        fetch(server, fetched_home)
    day = fetched_home.drop_dir("gov", DAY1)
    before = pages_in(day)
    batch = land(RESIDENTS, DAY1, fetched_home).batch
    parquet = partition(fetched_home.landing_parquet, RESIDENTS, DAY1) / f"{batch.batch_id}.parquet"
    landed = parquet.read_bytes()

    with (
        serving(tiny_drops, Faults(failing_pages=frozenset({("residents", 2)}))) as server,
        pytest.raises(FetchError, match=r"failed on page 2: HTTP 503"),
    ):
        fetch(server, fetched_home)
    assert pages_in(day) == before
    assert delivered(fetched_home) == sorted(f"gov/{DAY1}/{name}" for name in before)
    assert parquet.read_bytes() == landed
    assert land(RESIDENTS, DAY1, fetched_home).already_landed


def test_a_page_missing_mid_paging_is_named(tiny_drops, tmp_path, fetched_home):
    served = tmp_path / "served"
    shutil.copytree(tiny_drops / "gov", served / "gov")
    (served / "gov" / DAY1.isoformat() / "residents_page_0004.json").unlink()
    with (
        serving(served) as server,
        pytest.raises(
            FetchError, match=PAGE_URL.format(entity="residents", page=4) + "HTTP 404 Not Found$"
        ) as failed,
    ):
        fetch(server, fetched_home)
    assert failed.value.status == 404
    assert server.counts == {200: 3, 404: 1}
    assert delivered(fetched_home) == []


def _set(path: tuple[str, ...], value) -> Callable[[dict], dict]:
    def edit(document: dict) -> dict:
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return document

    return edit


@pytest.mark.parametrize(
    ("edit", "named_page", "problem"),
    [
        (
            _set(("data", "pages"), 9),
            2,
            "declares 9 pages and .*: the extract changed while it was being paged",
        ),
        (lambda d: {**d, "code": 1, "msg": "系统维护中"}, 2, "the API answered code 1: 系统维护中"),
        (_set(("data",), None), 2, "the answer is not a page document"),
        (_set(("data", "page"), 3), 2, "the answer is page 3"),
        (
            lambda d: _set(("data", "records"), d["data"]["records"][1:])(d),
            "last",
            r"\d+ records received in all, the API declared a total of \d+",
        ),
    ],
    ids=["pages-changed", "api-error-code", "not-a-page", "wrong-page", "records-short-of-total"],
)
def test_an_inconsistent_page_fails_the_fetch(tiny_drops, tmp_path, fetched_home, edit, named_page, problem):
    served = tmp_path / "served"
    shutil.copytree(tiny_drops / "gov", served / "gov")
    day = served / "gov" / DAY1.isoformat()
    page_2 = day / "residents_page_0002.json"
    page_2.write_text(json.dumps(edit(json.loads(page_2.read_bytes())), ensure_ascii=False))
    if named_page == "last":
        named_page = len(list(day.glob("residents_page_*.json")))
    with (
        serving(served) as server,
        pytest.raises(FetchError, match=f"failed on page {named_page}: {problem}"),
    ):
        fetch(server, fetched_home)
    assert delivered(fetched_home) == []


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (
            replace(QUICK, total_timeout_s=1.0),
            r"stopped after 1 attempt\(s\): the total timeout of 1s leaves no time for another",
        ),
        (replace(QUICK, request_timeout_s=0.2, attempts=3), r"gave up after 3 attempt\(s\)"),
    ],
    ids=["total-timeout", "request-timeout"],
)
def test_a_hanging_page_times_out_instead_of_holding_the_night(tiny_drops, fetched_home, policy, problem):
    hanging = Faults(slow_pages=frozenset({("residents", 2)}), slow_s=60)
    with serving(tiny_drops, hanging) as server:
        started = time.monotonic()
        with pytest.raises(
            FetchError,
            match=PAGE_URL.format(entity="residents", page=2) + r"no answer within [\d.]+s; " + problem,
        ):
            fetch(server, fetched_home, policy=policy)
        assert time.monotonic() - started < 5
    assert delivered(fetched_home) == []


def test_a_source_system_that_is_down_is_retried_then_named(fetched_home):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        with pytest.raises(
            FetchError,
            match=PAGE_URL.format(entity="residents", page=1)
            + r"connection failed \(ConnectError: .*\); gave up after 4 attempt\(s\)$",
        ):
            fetch_gov_extracts(DAY1, base_url=url, token=TOKEN, paths=fetched_home, policy=QUICK)
    assert delivered(fetched_home) == []


def test_the_server_answers_404_for_an_unknown_date_page_or_api(api, fetched_home):
    def status(query: str) -> int:
        return httpx.get(f"{api.url}{query}", headers=AUTH).status_code

    assert status("/api/residents?date=2026-11-01&page=1") == 200
    assert status("/api/residents?date=2030-01-01&page=1") == 404
    assert status("/api/residents?date=2026-11-01&page=99") == 404
    assert status("/api/members?date=2026-11-01&page=1") == 404
    assert status("/api/residents?page=1") == 400
    with pytest.raises(FetchError, match=r"date=2030-01-01&page=1 failed on page 1: HTTP 404 Not Found$"):
        fetch(api, fetched_home, day=date(2030, 1, 1))


def test_the_faults_depend_on_the_seed_and_the_request_not_on_the_order_of_requests(tiny_drops):
    def statuses(seed: int, pages: tuple[int, ...]) -> dict[tuple[int, int], int]:
        """Status by (page, how many times that page was asked for)."""
        faults = Faults(rate=0.5, seed=seed, retry_after_s=0)
        answered, asked = {}, Counter()
        with serving(tiny_drops, faults) as server, httpx.Client(base_url=server.url, headers=AUTH) as client:
            for n in pages:
                asked[n] += 1
                response = client.get("/api/residents", params={"date": DAY1.isoformat(), "page": n})
                answered[n, asked[n]] = response.status_code
        return answered

    first = statuses(5, (1, 2, 3, 4, 5, 6, 1, 2, 3))
    assert statuses(5, (3, 2, 1, 6, 5, 4, 3, 2, 1)) == first
    assert {429, 503, 200} <= set(first.values())
    assert statuses(6, (1, 2, 3, 4, 5, 6, 1, 2, 3)) != first


def test_fetching_names_the_setting_it_lacks(monkeypatch, fetched_home):
    monkeypatch.delenv(URL_ENV, raising=False)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ValueError, match=URL_ENV):
        fetch_gov_extracts(DAY1, paths=fetched_home)
    monkeypatch.setenv(URL_ENV, "http://127.0.0.1:9")
    with pytest.raises(ValueError, match=TOKEN_ENV):
        fetch_gov_extracts(DAY1, paths=fetched_home)


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert retry_after_seconds("7") == 7.0
    in_two_minutes = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
    assert 100 < retry_after_seconds(in_two_minutes) <= 120
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_gridfusion_sim_serve_serves_a_drops_folder(tiny_drops):
    server = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "serve", "--drops", str(tiny_drops), "--port", "0"],
        env={**os.environ, TOKEN_ENV: TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", server.stdout.readline()).group()
        response = httpx.get(
            f"{url}/api/hotline_orders", params={"date": DAY1.isoformat(), "page": 1}, headers=AUTH
        )
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=20)
    assert response.status_code == 200
    assert (
        response.content
        == (tiny_drops / "gov" / DAY1.isoformat() / "hotline_orders_page_0001.json").read_bytes()
    )
    assert "responses by status: {200: 1}" in out


def test_production_code_never_imports_the_simulator():
    for folder in ("ingest", "expectations", "warehouse", "dags"):
        for file in (REPO_ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                assert not any(n.split(".")[0] == "simulator" for n in names), f"{file} imports the simulator"


def test_a_night_fetches_the_gov_system_from_its_api_when_configured(
    api, own_drops, home, monkeypatch, truth
):
    """The shared night step: with GRIDFUSION_GOV_API_URL set, gov's extracts come over HTTP, not from disk."""
    from warehouse.night import load_entity

    shutil.rmtree(own_drops / "gov" / DAY1.isoformat())  # nothing on disk: only the API can deliver it
    monkeypatch.setenv(URL_ENV, api.url)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    batch = load_entity(RESIDENTS, DAY1, home)
    assert batch.status == "accepted"
    assert batch.rows_read == records_in(api.drops / "gov" / DAY1.isoformat(), "residents")
    assert api.counts[200] == len(list((api.drops / "gov" / DAY1.isoformat()).glob("residents_page_*.json")))
