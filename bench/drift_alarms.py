"""How often the drift rules raise an alarm on simulated nights that hold no real drift (false alarms).

``python -m bench.drift_alarms --preset demo --days 14 --out DIR`` simulates the nights (unless ``DIR/drops``
holds them already), lands and validates each one in order (no warehouse build: drift reads only the
manifest and the landed batches) and counts, per entity and severity, the drift findings of each night.
The simulated volumes change only by chance and by a backlog of open cases building up, so every warning
is a false alarm.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

from expectations import drift  # noqa: E402
from expectations.validate import validate  # noqa: E402
from ingest.config import Paths  # noqa: E402
from ingest.contracts import CONTRACTS  # noqa: E402
from ingest.landing import land  # noqa: E402
from ingest.references import validation_order  # noqa: E402

START = date(2026, 11, 1)


def load_nights(paths: Paths, nights: list[date]) -> None:
    for night in nights:
        for contract in validation_order():
            land(contract, night, paths)
            try:
                validate(contract, night, paths)
            except Exception as error:  # noqa: BLE001 — a rejected batch is part of what is measured
                print(f"{night} {contract.key}: {error}")


def count_alarms(paths: Paths, nights: list[date], drift_of: Callable = drift.drift) -> dict:
    """Drift findings per (entity, severity) over ``nights``, and the nights each warning fell on."""
    counts: Counter = Counter()
    warnings = []
    for night in nights:
        for contract in CONTRACTS:
            for found in drift_of(paths, contract, night):
                counts[f"{contract.key} {found.severity}"] += 1
                if found.severity == "warning":
                    warnings.append(f"{night} {contract.key} {found.measure} {found.change:+}")
    return {
        "warnings": sum(n for k, n in counts.items() if k.endswith("warning")),
        "infos": sum(n for k, n in counts.items() if k.endswith("info")),
        "by_entity": dict(sorted(counts.items())),
        "warning_nights": warnings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    drops = args.out / "drops"
    os.environ["GRIDFUSION_DROPS"] = str(drops)
    if not (drops / "truth").exists():
        from simulator.generate import generate

        generate(args.preset, drops, days=args.days, start=START)
    paths = Paths(args.out / "home")
    nights = [START + timedelta(days=n) for n in range(args.days)]
    load_nights(paths, nights)
    print(json.dumps(count_alarms(paths, nights), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
