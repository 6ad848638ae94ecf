"""Fetch every page of one extract from a paged JSON API, riding out what a busy source system answers.

Each page is ``{"code": 0, "msg": ..., "data": {"page": n, "pages": N, "total": T, "records": [...]}}``;
pages are followed from page 1 up to the ``pages`` it declares. ``429``, ``5xx``, timeouts and broken
connections are retried with exponential backoff, or after the server's ``Retry-After``; any other status
fails at once. One deadline bounds the whole extract, waits included, so a stuck server fails the fetch
instead of holding up the night.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NoReturn

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # per page, the first request included
    backoff_s: float = 1.0  # the first wait; it doubles with each retry, plus up to as much again of jitter
    backoff_max_s: float = 60.0
    request_timeout_s: float = 30.0  # to connect, or between two reads of the answer
    total_timeout_s: float = 900.0  # the whole extract, every page, retry and wait (below the task timeout)


class FetchError(RuntimeError):
    """A page that could not be fetched, named by its URL, page number and HTTP status (if one came)."""

    def __init__(self, url: str, page: int, problem: str, status: int | None = None):
        self.url, self.page, self.status = url, page, status
        super().__init__(f"GET {url} failed on page {page}: {problem}")


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int
    records: int
    attempts: int
    body: bytes  # exactly as served


class _Retryable(Exception):
    def __init__(self, problem: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(problem)
        self.problem, self.status, self.retry_after = problem, status, retry_after


def fetch_pages(
    client: httpx.Client, path: str, params: dict[str, str], policy: RetryPolicy
) -> Iterator[Page]:
    """Pages 1..N of ``path`` in order; raises ``FetchError`` on the first page that cannot be had."""
    deadline = time.monotonic() + policy.total_timeout_s
    first = _fetch_page(client, path, params, 1, policy, deadline)
    yield first
    received = first.records
    for number in range(2, first.pages + 1):
        page = _fetch_page(client, path, params, number, policy, deadline)
        if (page.pages, page.total) != (first.pages, first.total):
            raise FetchError(
                _url(client, path, params, number),
                number,
                f"declares {page.pages} pages and {page.total} records, page 1 declared "
                f"{first.pages} and {first.total}: the extract changed while it was being paged",
            )
        received += page.records
        yield page
    if received != first.total:
        raise FetchError(
            _url(client, path, params, first.pages),
            first.pages,
            f"{received} records received in all, the API declared a total of {first.total}",
        )


def _url(client: httpx.Client, path: str, params: dict[str, str], number: int) -> str:
    return str(client.build_request("GET", path, params={**params, "page": str(number)}).url)


def _fetch_page(
    client: httpx.Client,
    path: str,
    params: dict[str, str],
    number: int,
    policy: RetryPolicy,
    deadline: float,
) -> Page:
    url = _url(client, path, params, number)

    def give_up(state: RetryCallState) -> NoReturn:
        last, attempts = state.outcome.exception(), state.attempt_number
        why = (
            f"stopped after {attempts} attempt(s): the total timeout of {policy.total_timeout_s:g}s "
            "leaves no time for another"
            if _out_of_time(deadline)(state)
            else f"gave up after {attempts} attempt(s)"
        )
        raise FetchError(url, number, f"{last.problem}; {why}", last.status) from last

    def log_retry(state: RetryCallState) -> None:
        log.warning(
            "GET %s: %s (attempt %d); retrying in %.2fs",
            url,
            state.outcome.exception().problem,
            state.attempt_number,
            state.upcoming_sleep,
        )

    retrying = Retrying(
        retry=retry_if_exception_type(_Retryable),
        wait=_retry_after_or_backoff(policy),
        stop=stop_after_attempt(policy.attempts) | _out_of_time(deadline),
        before_sleep=log_retry,
        retry_error_callback=give_up,
    )
    body = retrying(_get, client, url, number, policy, deadline)
    return _page(body, number, url, attempts=retrying.statistics["attempt_number"])


def _get(client: httpx.Client, url: str, number: int, policy: RetryPolicy, deadline: float) -> bytes:
    timeout = max(0.001, min(policy.request_timeout_s, deadline - time.monotonic()))
    try:
        with client.stream("GET", url, timeout=timeout) as response:
            status = response.status_code
            if status == 200:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if time.monotonic() > deadline:  # a server trickling bytes must not outlast the deadline
                        raise _Retryable("the answer was still arriving")
                return bytes(body)
            problem = f"HTTP {status} {response.reason_phrase}"
            if status == 429 or status >= 500:
                raise _Retryable(problem, status, retry_after_seconds(response.headers.get("Retry-After")))
            if status in (401, 403):
                problem += " (the bearer token was refused)"
            raise FetchError(url, number, problem, status)
    except httpx.TimeoutException:
        raise _Retryable(f"no answer within {timeout:.1f}s") from None
    except (httpx.NetworkError, httpx.RemoteProtocolError) as err:
        raise _Retryable(f"connection failed ({type(err).__name__}: {err})") from None
    except httpx.HTTPError as err:  # a bad address or proxy setting: retrying will not help
        raise FetchError(url, number, f"{type(err).__name__}: {err}") from err


def _page(body: bytes, number: int, url: str, attempts: int) -> Page:
    try:
        document = json.loads(body)
        if document["code"] != 0:
            raise FetchError(url, number, f"the API answered code {document['code']}: {document.get('msg')}")
        data = document["data"]
        page = Page(
            number=int(data["page"]),
            pages=int(data["pages"]),
            total=int(data["total"]),
            records=len(data["records"]),
            attempts=attempts,
            body=body,
        )
    except (ValueError, KeyError, TypeError) as err:
        raise FetchError(url, number, f"the answer is not a page document ({err!r})") from None
    if page.number != number:
        raise FetchError(url, number, f"the answer is page {page.number}")
    return page


def _retry_after_or_backoff(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    backoff = wait_exponential_jitter(
        multiplier=policy.backoff_s, max=policy.backoff_max_s, jitter=policy.backoff_s
    )

    def wait(state: RetryCallState) -> float:
        asked = getattr(state.outcome.exception(), "retry_after", None)
        return asked if asked is not None else backoff(state)

    return wait


def _out_of_time(deadline: float) -> Callable[[RetryCallState], bool]:
    return lambda state: time.monotonic() + state.upcoming_sleep >= deadline


def retry_after_seconds(retry_after: str | None) -> float | None:
    """``Retry-After`` as seconds from now: it is either a number of seconds or an HTTP date."""
    if retry_after is None:
        return None
    if retry_after.strip().isdigit():
        return float(retry_after)
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when.replace(tzinfo=when.tzinfo or UTC) - datetime.now(UTC)).total_seconds())
