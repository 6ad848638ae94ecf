"""The gov system as the real one is reached: a paged JSON API over HTTP, serving an existing drops folder.

``GET /api/{entity}?date=YYYY-MM-DD&page=n`` with ``Authorization: Bearer <token>`` returns the bytes of
``drops/gov/<date>/<entity>_page_000n.json``. Like the real system it is not always willing: a share of
requests is answered ``429`` (with ``Retry-After``) or ``503``, chosen from the seed and the request itself so
that the same requests meet the same faults on every run, however they are interleaved. Pages can also be
made to fail every time or to hang, to show what a client does when a source system is down or stuck.
"""

from __future__ import annotations

import hmac
import json
import random
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ingest.contracts import for_system

ENTITIES = tuple(c.entity for c in for_system("gov") if c.format == "json_pages")

PageRef = tuple[str, int]  # (entity, page number)


@dataclass(frozen=True)
class Faults:
    rate: float = 0.0  # share of requests answered 429 or 503 (half each)
    seed: int = 0
    retry_after_s: int = 1  # what a 429 asks the client to wait
    failing_pages: frozenset[PageRef] = field(default_factory=frozenset)  # 503 on every request
    slow_pages: frozenset[PageRef] = field(default_factory=frozenset)  # answered after slow_s
    slow_s: float = 0.0


def page_ref(text: str) -> PageRef:
    """``residents:2`` → ``("residents", 2)``."""
    entity, _, page = text.partition(":")
    if entity not in ENTITIES or not page.isdigit():
        raise ValueError(f"expected <entity>:<page> with entity one of {ENTITIES}, got {text!r}")
    return entity, int(page)


class GovApiServer(ThreadingHTTPServer):
    """Serves ``<drops>/gov/<date>/<entity>_page_<n>.json``; counts every response by status code."""

    daemon_threads = True
    block_on_close = False  # shutting down does not wait for clients holding keep-alive connections

    def __init__(self, address: tuple[str, int], drops: Path, token: str, faults: Faults | None = None):
        super().__init__(address, _Handler)
        self.drops, self.token, self.faults = drops, token, faults or Faults()
        self.counts: Counter[int] = Counter()
        self.stopping = threading.Event()  # wakes hanging pages on shutdown
        self._attempts: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def server_close(self) -> None:
        self.stopping.set()
        super().server_close()

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up is no error
            super().handle_error(request, client_address)

    def attempt(self, entity: str, day: str, page: int) -> int:
        """How many times this page has been asked for, this request included."""
        with self._lock:
            self._attempts[entity, day, page] += 1
            return self._attempts[entity, day, page]

    def count(self, status: int) -> None:
        with self._lock:
            self.counts[status] += 1


class _Handler(BaseHTTPRequestHandler):
    server: GovApiServer
    protocol_version = "HTTP/1.1"  # keep-alive, as a client's connection pool expects

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        sent, expected = self.headers.get("Authorization", ""), f"Bearer {self.server.token}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):  # as bytes: str refuses non-ASCII
            return self._error(HTTPStatus.UNAUTHORIZED, "missing or wrong bearer token")
        entity = url.path.removeprefix("/api/")
        if entity not in ENTITIES:
            return self._error(HTTPStatus.NOT_FOUND, f"no such API {url.path}")
        query = parse_qs(url.query)
        try:
            day = date.fromisoformat(query["date"][0]).isoformat()
            page = int(query.get("page", ["1"])[0])
        except (KeyError, ValueError):
            return self._error(HTTPStatus.BAD_REQUEST, "expected ?date=YYYY-MM-DD&page=n")
        file = self.server.drops / "gov" / day / f"{entity}_page_{page:04d}.json"
        if not file.is_file():
            return self._error(HTTPStatus.NOT_FOUND, f"no page {page} of {entity} for {day}")

        faults = self.server.faults
        if (entity, page) in faults.slow_pages and self.server.stopping.wait(faults.slow_s):
            return  # shutting down: the client gave up long ago
        if (entity, page) in faults.failing_pages:
            return self._error(HTTPStatus.SERVICE_UNAVAILABLE, "page unavailable")
        draw = random.Random(f"{faults.seed}:{entity}:{day}:{page}:{self.server.attempt(entity, day, page)}")
        if draw.random() < faults.rate:
            if draw.random() < 0.5:
                return self._error(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    "rate limit exceeded",
                    {"Retry-After": str(faults.retry_after_s)},
                )
            return self._error(HTTPStatus.SERVICE_UNAVAILABLE, "service busy")
        self._send(HTTPStatus.OK, file.read_bytes())

    def _error(self, status: HTTPStatus, msg: str, headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"code": int(status), "msg": msg, "data": None}, ensure_ascii=False).encode()
        headers = dict(headers or {})
        if status == HTTPStatus.UNAUTHORIZED:
            headers["WWW-Authenticate"] = 'Bearer realm="gov"'
        self._send(status, body, headers)

    def _send(self, status: HTTPStatus, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.server.count(int(status))
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
