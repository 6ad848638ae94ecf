"""Alerts for the data team: a failed task or an unpublished night is logged, kept, and optionally pushed.

Every alert goes to the task log and to ``reports/alerts.jsonl`` under the gridfusion home. When the Airflow
connection ``gridfusion_alerts`` exists (host: the webhook URL; password: an optional bearer token), the
alert is also POSTed there as JSON; without it, pushing is off.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime

import httpx

from ingest.config import Paths

log = logging.getLogger(__name__)
CONNECTION_ID = "gridfusion_alerts"


def _webhook():
    from airflow.sdk import Connection

    try:
        return Connection.get(CONNECTION_ID)
    except Exception:  # noqa: BLE001 — no connection configured means pushing is off
        return None


def send(kind: str, message: str, **details) -> dict:
    alert = {"at": datetime.now().isoformat(timespec="seconds"), "kind": kind, "message": message, **details}
    log.error("gridfusion alert: %s", json.dumps(alert, ensure_ascii=False, default=str))
    target = Paths.from_env().reports / "alerts.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a") as out:
        out.write(json.dumps(alert, ensure_ascii=False, default=str) + "\n")
    connection = _webhook()
    if connection is not None and connection.host:
        headers = {"Authorization": f"Bearer {connection.password}"} if connection.password else {}
        try:
            httpx.post(connection.host, json=alert, headers=headers, timeout=10)
        except httpx.HTTPError as error:
            log.error("alert webhook %s failed: %s", CONNECTION_ID, error)
    return alert


def on_task_failure(context) -> None:
    """Airflow ``on_failure_callback``: which task of which night failed, and why."""
    ti = context["ti"]
    send(
        "task_failed",
        str(context.get("exception") or "task failed"),
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        try_number=ti.try_number,
    )


class WarehouseNotPublished(RuntimeError):
    """The night's warehouse was not published by the time analysts start reading it."""


def check_published(load_date: date, paths: Paths | None = None) -> None:
    """Alert (and raise) when the warehouse of ``load_date`` has not been published."""
    paths = paths or Paths.from_env()
    if (paths.reports / "publish" / f"{load_date.isoformat()}.json").exists():
        return
    message = f"the warehouse of {load_date} was not published by 07:00 Asia/Shanghai"
    send("not_published", message, load_date=load_date.isoformat())
    raise WarehouseNotPublished(message)
