"""How far an entity has been extracted from a source database, kept per night under the gridfusion home.

One JSON document per entity and night (``watermarks/<system>/<entity>/load_date=<date>.json``), written
only after that night's batch has landed. A night starts from the document of the latest night before it,
so rerunning a night repeats its own extract instead of continuing from where the rerun left off.

``high_water`` is the newest change stamp extracted so far. The next extract reads from a lookback before
it, so a row committed late with an older stamp is still found; ``seen`` lists the (key, stamp) pairs
already delivered within that lookback, so those rows are not delivered twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path


@dataclass
class Watermark:
    system: str
    entity: str
    load_date: str
    high_water: str | None = None  # ISO time, UTC; None: nothing extracted yet
    seen: list[list[str]] = field(default_factory=list)  # [*key values, ISO stamp] within the lookback
    rows: int = 0  # rows this night delivered
    window: list[str | None] = field(default_factory=list)  # [from, until) of this night's extract

    def high_water_time(self) -> datetime | None:
        return datetime.fromisoformat(self.high_water) if self.high_water else None

    def seen_pairs(self) -> set[tuple[str, ...]]:
        return {tuple(pair) for pair in self.seen}

    def seen_since(self, since: datetime) -> list[list[str]]:
        return [pair for pair in self.seen if datetime.fromisoformat(pair[-1]) >= since]


def lookback_start(high_water: datetime | None, lookback: timedelta) -> datetime | None:
    """Where the next extract starts reading: a lookback before the high-water mark (None: from the start)."""
    return high_water - lookback if high_water else None


def _folder(root: Path, system: str, entity: str) -> Path:
    return root / system / entity


def _night(path: Path) -> date:
    return date.fromisoformat(path.stem.removeprefix("load_date="))


def nights(root: Path, system: str, entity: str) -> list[date]:
    """Nights whose extract landed, oldest first."""
    return sorted(_night(p) for p in _folder(root, system, entity).glob("load_date=*.json"))


def read(root: Path, system: str, entity: str, night: date) -> Watermark | None:
    path = _folder(root, system, entity) / f"load_date={night.isoformat()}.json"
    return Watermark(**json.loads(path.read_text())) if path.exists() else None


def before(root: Path, system: str, entity: str, night: date) -> Watermark | None:
    """Where the extract for ``night`` starts: the watermark of the latest earlier night, if any."""
    earlier = [n for n in nights(root, system, entity) if n < night]
    return read(root, system, entity, earlier[-1]) if earlier else None


def save(root: Path, watermark: Watermark) -> Path:
    folder = _folder(root, watermark.system, watermark.entity)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"load_date={watermark.load_date}.json"
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(json.dumps(asdict(watermark), ensure_ascii=False, indent=1))
    os.replace(tmp, target)
    return target
