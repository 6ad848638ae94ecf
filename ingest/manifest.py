"""The load manifest: one JSON document per batch, written atomically, queryable with DuckDB.

A batch is one entity's extract for one load date. Its document follows the batch through the night:
``landed`` → ``accepted`` (rows loaded, some maybe quarantined) or ``rejected`` (a critical rule failed),
or ``failed`` (the extract could not be read). ``read_json('manifest/**/*.json')`` lists them all.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

from ingest.files import replacing

# Statuses of a batch whose data reached the accepted area (a duplicate's data is already there).
LOADED_STATUSES = ("accepted", "duplicate")
# A batch of quarantined rows that passed on a later validation (``gridfusion readmit``). It is filed under
# the night of the batch it came from but is not that night's extract: ``latest`` and ``of_night`` skip it.
READMITTED = "readmitted"


@dataclass
class Batch:
    batch_id: str
    system: str
    entity: str
    load_date: str
    contract_version: int
    files: list[str]
    checksum: str
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_carried: int = (
        0  # of the rows read, how many were unchanged since the last snapshot (``ingest.carry``)
    )
    carried_from: str = ""  # the batch they were carried from
    rules_version: str = ""  # digest of the contract and the code that typed and checked the rows
    duplicates_dropped: int = 0  # exact copies of a row in the extract, dropped at landing (read = loaded +
    # quarantined + readmitted + duplicates dropped)
    rows_readmitted: int = 0  # of the rows quarantined at validation, how many a readmission loaded since
    readmitted_from: str = ""  # a readmitted batch: the batch whose quarantined rows it loaded
    # Schema drift against the contract: columns sent that it does not know (kept in ``_raw``), its optional
    # columns not sent (loaded as null), and source types changed since the entity's last batch.
    extra_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    type_changes: dict[str, str] = field(default_factory=dict)  # column → "old type → new type"
    source_types: dict[str, str] = field(default_factory=dict)  # column → type as sent (typed sources only)
    message: str = ""
    landed_at: str = ""
    validated_at: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)


def _folder(root: Path, system: str, entity: str, load_date: date) -> Path:
    return root / system / entity / f"load_date={load_date.isoformat()}"


def write(root: Path, batch: Batch) -> Path:
    folder = _folder(root, batch.system, batch.entity, date.fromisoformat(batch.load_date))
    target = folder / f"{batch.batch_id}.json"
    with replacing(target) as tmp:
        tmp.write_text(json.dumps(asdict(batch), ensure_ascii=False, indent=2))
    return target


def batches(root: Path, system: str, entity: str, load_date: date | None = None) -> list[Batch]:
    """Batches of one entity (optionally one load date), oldest landing first."""
    pattern = f"load_date={load_date.isoformat()}/*.json" if load_date else "load_date=*/*.json"
    found = [Batch(**json.loads(p.read_text())) for p in (root / system / entity).glob(pattern)]
    return sorted(found, key=lambda b: (b.load_date, b.landed_at))


def find_checksum(root: Path, system: str, entity: str, checksum: str) -> Batch | None:
    return next(
        (b for b in extracts(root, system, entity) if b.checksum == checksum and b.status != "failed"), None
    )


def extracts(root: Path, system: str, entity: str, load_date: date | None = None) -> list[Batch]:
    """Batches of the extracts delivered (no readmissions), oldest landing first."""
    return [b for b in batches(root, system, entity, load_date) if b.status != READMITTED]


def latest(root: Path, system: str, entity: str, load_date: date) -> Batch | None:
    found = [b for b in extracts(root, system, entity, load_date) if b.status != "failed"]
    return found[-1] if found else None


def of_night(root: Path, system: str, entity: str, load_date: date) -> Batch | None:
    """The batch that stands for one entity's night: the latest that landed, else a failed landing."""
    found = extracts(root, system, entity, load_date)
    landed = [b for b in found if b.status != "failed"]
    return (landed or found)[-1] if found else None


def now() -> str:
    return datetime.now().isoformat(timespec="seconds")
