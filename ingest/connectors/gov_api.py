"""Fetch the gov system's paged extracts from its HTTP API into the drop folder, ahead of landing.

``GET <base>/api/<entity>?date=YYYY-MM-DD&page=n`` with a bearer token. The pages are written to
``drops/gov/<date>/`` byte for byte as served, the same files a file drop delivers, so landing (checksum,
raw copy, typed Parquet, manifest) treats a fetched extract and a dropped one alike.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from ingest.config import Paths
from ingest.connectors.drop_writer import deliver_pages
from ingest.connectors.paged_api import RetryPolicy, fetch_pages
from ingest.contracts import for_system, get

URL_ENV = "GRIDFUSION_GOV_API_URL"
TOKEN_ENV = "GRIDFUSION_GOV_API_TOKEN"
TIMEOUT_ENV = (
    "GRIDFUSION_GOV_API_TIMEOUT_SECONDS"  # the whole extract's deadline (RetryPolicy.total_timeout_s)
)
ENTITIES = tuple(c.entity for c in for_system("gov") if c.format == "json_pages")

log = logging.getLogger(__name__)


@dataclass
class Fetched:
    entity: str
    files: list[Path]
    records: int = 0
    retries: int = 0
    seconds: float = 0.0


def fetch_gov_extracts(
    load_date: date,
    entities: Iterable[str] = ENTITIES,
    base_url: str | None = None,
    token: str | None = None,
    paths: Paths | None = None,
    policy: RetryPolicy | None = None,
) -> list[Fetched]:
    """Fetch each entity's pages for ``load_date`` into ``drops/gov/<date>/``, one entity after the other.

    ``base_url`` and ``token`` default to ``GRIDFUSION_GOV_API_URL`` and ``GRIDFUSION_GOV_API_TOKEN``.
    Raises ``FetchError`` naming the URL, page and status of the first page that cannot be had; that
    entity's files in the drop folder are then left as they were.
    """
    base_url = base_url or os.environ.get(URL_ENV)
    token = token or os.environ.get(TOKEN_ENV)
    if not base_url:
        raise ValueError(f"no address for the gov API: pass base_url or set {URL_ENV}")
    if not token:
        raise ValueError(f"no token for the gov API: pass token or set {TOKEN_ENV}")
    contracts = [get("gov", entity) for entity in entities]
    folder = (paths or Paths.from_env()).drop_dir("gov", load_date)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with httpx.Client(base_url=base_url, headers=headers) as client:
        policy = policy or RetryPolicy(
            total_timeout_s=float(os.environ.get(TIMEOUT_ENV, RetryPolicy.total_timeout_s))
        )
        return [_fetch(client, c.entity, load_date, folder, policy) for c in contracts]


def _fetch(client: httpx.Client, entity: str, load_date: date, folder: Path, policy: RetryPolicy) -> Fetched:
    started = time.perf_counter()
    fetched = Fetched(entity, files=[])

    def bodies() -> Iterator[bytes]:
        for page in fetch_pages(client, f"api/{entity}", {"date": load_date.isoformat()}, policy):
            fetched.records += page.records
            fetched.retries += page.attempts - 1
            yield page.body

    fetched.files = deliver_pages(folder, entity, bodies())
    fetched.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "fetched gov.%s for %s: %d pages, %d records, %d retries in %.1fs → %s",
        entity,
        load_date,
        len(fetched.files),
        fetched.records,
        fetched.retries,
        fetched.seconds,
        folder,
    )
    return fetched
