"""Alerts: kept in the reports, and pushed to the webhook of the `gridfusion_alerts` connection when set."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from warehouse.alerts import WarehouseNotPublished, check_published, send


@pytest.fixture
def webhook():
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(
                (
                    self.headers.get("Authorization"),
                    json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
                )
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_an_alert_is_kept_without_a_webhook(home, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_GRIDFUSION_ALERTS", raising=False)
    send("task_failed", "land_members failed", task_id="party.land_members")
    kept = [json.loads(line) for line in (home.reports / "alerts.jsonl").read_text().splitlines()]
    assert kept[-1]["kind"] == "task_failed" and kept[-1]["task_id"] == "party.land_members"


def test_an_alert_is_pushed_to_the_configured_webhook(home, monkeypatch, webhook):
    url, received = webhook
    connection = {"conn_type": "http", "host": url, "password": "s3cret"}
    monkeypatch.setenv("AIRFLOW_CONN_GRIDFUSION_ALERTS", json.dumps(connection))
    send("task_failed", "build_warehouse failed")
    assert received == [("Bearer s3cret", received[0][1])]
    assert received[0][1]["kind"] == "task_failed"


def test_the_watchdog_alerts_when_a_night_was_not_published(home):
    (home.reports / "publish").mkdir(parents=True)
    (home.reports / "publish" / "2026-11-01.json").write_text("{}")
    check_published(date(2026, 11, 1), home)  # published: silent
    with pytest.raises(WarehouseNotPublished, match="2026-11-02 was not published by 07:00"):
        check_published(date(2026, 11, 2), home)
    kept = [json.loads(line) for line in (home.reports / "alerts.jsonl").read_text().splitlines()]
    assert [a["kind"] for a in kept] == ["not_published"]
