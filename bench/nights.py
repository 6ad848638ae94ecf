"""One night, stage by stage, through the same steps the DAG and ``gridfusion run-night`` use."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import date

from bench.memory import PeakMemory
from expectations.validate import validate as validate_entity
from ingest.config import Paths
from ingest.contracts import CONTRACTS, Contract
from ingest.references import validation_order
from warehouse import night
from warehouse.summary import recorded

log = logging.getLogger(__name__)
STAGES = ("land", "validate", "dbt build", "publish", "summarise")


@dataclass
class StageTiming:
    stage: str
    seconds: float
    cpu_seconds: float  # user + system of this process and its children: less swayed by others' load
    peak_rss_bytes: int


@dataclass
class EntityTiming:
    entity: str
    rows: int = 0  # source rows landed (0 when the extract was already landed, e.g. an unchanged snapshot)
    bytes: int = 0  # bytes of the entity's extract files
    land_seconds: float = 0.0
    validate_seconds: float = 0.0


@dataclass
class NightTiming:
    load_date: str
    rows: int  # source rows landed this night (duplicated snapshots land nothing)
    raw_bytes: int  # bytes of the night's extract files, all systems
    stages: list[StageTiming] = field(default_factory=list)
    dbt_parse_seconds: float = 0.0
    dbt_compile_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    entities: dict[str, EntityTiming] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages)

    @property
    def peak_rss_bytes(self) -> int:
        return max((s.peak_rss_bytes for s in self.stages), default=0)


def cpu_seconds() -> float:
    used = os.times()
    return used.user + used.system + used.children_user + used.children_system


def extract_bytes(contract: Contract, load_date: date, paths: Paths) -> int:
    return sum(f.stat().st_size for f in paths.drop_dir(contract.system, load_date).glob(contract.file_glob))


def run_night(load_date: date, paths: Paths, memory: PeakMemory) -> NightTiming:
    entities = {c.key: EntityTiming(c.key, bytes=extract_bytes(c, load_date, paths)) for c in CONTRACTS}
    timing = NightTiming(
        load_date.isoformat(),
        rows=0,
        raw_bytes=sum(e.bytes for e in entities.values()),
        entities=entities,
    )
    state: dict = {}

    def each_entity(step, seconds_field: str) -> None:
        for contract in validation_order():  # a referenced entity first, as the night runs them
            started = time.perf_counter()
            try:
                step(contract)
            except Exception as error:  # noqa: BLE001 — as in run_night, one source does not stop the rest
                timing.errors.append(f"{contract.key}: {error}")
            setattr(entities[contract.key], seconds_field, time.perf_counter() - started)

    def land_one(contract) -> None:
        landed = night.land_entity(contract, load_date, paths)
        if not landed.already_landed:
            timing.rows += landed.batch.rows_read
            entities[contract.key].rows = landed.batch.rows_read

    def land() -> None:
        each_entity(land_one, "land_seconds")

    def validate() -> None:
        each_entity(lambda contract: validate_entity(contract, load_date, paths), "validate_seconds")

    def build() -> None:
        candidate = night.build(load_date, paths)
        state["candidate"] = candidate
        outcome = recorded(paths, "build", load_date) or {}
        timing.dbt_parse_seconds = outcome.get("parse_seconds", 0.0)
        timing.dbt_compile_seconds = outcome.get("compile_seconds", 0.0)

    def publish() -> None:
        night.publish(state["candidate"], load_date, paths)

    def summarise() -> None:
        night.close_night(load_date, paths)

    for stage, step in zip(STAGES, (land, validate, build, publish, summarise), strict=True):
        memory.reset()
        started, cpu_started = time.perf_counter(), cpu_seconds()
        try:
            step()
        except Exception as error:  # noqa: BLE001 — a failed stage is a finding, reported with the figures
            log.error("%s on %s: %s", stage, load_date, error)
            timing.errors.append(f"{stage}: {error}")
        timing.stages.append(
            StageTiming(
                stage, time.perf_counter() - started, cpu_seconds() - cpu_started, memory.stage_peak()
            )
        )
        if stage == "dbt build" and "candidate" not in state:
            break
    unloaded = night.unloaded_entities(load_date, paths)
    if unloaded:
        timing.errors.append(f"not loaded: {', '.join(unloaded)}")
    return timing
