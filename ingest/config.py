"""Where gridfusion keeps its files.

Everything the nightly path writes lives under one home folder (``GRIDFUSION_HOME``, default ``var/`` in
the repository), so a run is easy to inspect, back up or throw away.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ingest.contracts import Contract

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Paths:
    home: Path

    @classmethod
    def from_env(cls) -> Paths:
        return cls(Path(os.environ.get("GRIDFUSION_HOME", REPO_ROOT / "var")).resolve())

    @property
    def drops(self) -> Path:
        """Where the source systems drop their nightly extracts: ``drops/<system>/<YYYY-MM-DD>/``."""
        return Path(os.environ.get("GRIDFUSION_DROPS", self.home / "drops"))

    @property
    def landing_raw(self) -> Path:
        return self.home / "landing" / "raw"

    @property
    def landing_parquet(self) -> Path:
        return self.home / "landing" / "parquet"

    @property
    def landing_carried(self) -> Path:
        """Per landed snapshot batch, its rows carried from the last committed batch (``ingest.carry``)."""
        return self.home / "landing" / "carried"

    @property
    def manifest(self) -> Path:
        return self.home / "landing" / "manifest"

    @property
    def watermarks(self) -> Path:
        """How far each database-sourced entity has been extracted, per night: ``<system>/<entity>/``."""
        return self.home / "landing" / "watermarks"

    @property
    def accepted(self) -> Path:
        return self.home / "accepted"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def gx_root(self) -> Path:
        return self.home / "gx"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def rule_outcomes(self) -> Path:
        """Each validated batch's result per rule: ``rule_outcomes/<system>/<entity>/load_date=<date>/``."""
        return self.reports / "rule_outcomes"

    @property
    def quality_reports(self) -> Path:
        """The nightly quality summary for reviewers: ``quality/<date>.html`` and ``.json``."""
        return self.reports / "quality"

    @property
    def data_docs(self) -> Path:
        """Great Expectations Data Docs kept per night: ``data_docs/<date>/``, listed by ``index.html``."""
        return self.reports / "data_docs"

    @property
    def dbt_docs(self) -> Path:
        """dbt docs of the warehouse as each night built it: ``dbt_docs/<date>/index.html``."""
        return self.reports / "dbt_docs"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def warehouse(self) -> Path:
        """The published warehouse analysts read."""
        return self.warehouse_dir / "gridfusion.duckdb"

    @property
    def analytics(self) -> Path:
        """The published, de-identified marts-only database."""
        return self.warehouse_dir / "analytics.duckdb"

    def drop_dir(self, system: str, load_date: date) -> Path:
        return self.drops / system / load_date.isoformat()


SHANGHAI = ZoneInfo("Asia/Shanghai")


def partition(root: Path, contract: Contract, load_date: date) -> Path:
    """The folder of one entity's files of one night under ``root`` (landing, accepted, quarantine, ...)."""
    return root / contract.system / contract.entity / f"load_date={load_date.isoformat()}"


def load_date_for(data_interval_start: datetime) -> date:
    """The source day a nightly run loads: the Shanghai calendar date its data interval starts on.

    The 02:00 run on 11-02 has the interval [11-01 02:00, 11-02 02:00) and loads the drops of 11-01.
    """
    return data_interval_start.astimezone(SHANGHAI).date()
