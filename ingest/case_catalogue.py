"""The grid-matter catalogue (网格事项清单): 7 categories, their items and each category's deadline.

Kept once, as the dbt seed ``case_catalogue.csv`` that ``dim_case_category`` is built from; the contracts'
code set of case categories (and the simulator's cases) are read from the same file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from ingest.config import REPO_ROOT

CATALOGUE_CSV = REPO_ROOT / "dbt_project" / "seeds" / "case_catalogue.csv"


@dataclass(frozen=True)
class CatalogueItem:
    category_code: str
    category_name: str
    item_code: str
    item_name: str
    deadline_hours: int


@cache
def items() -> tuple[CatalogueItem, ...]:
    with CATALOGUE_CSV.open(encoding="utf-8", newline="") as handle:
        return tuple(
            CatalogueItem(
                row["category_code"],
                row["category_name"],
                row["item_code"],
                row["item_name"],
                int(row["deadline_hours"]),
            )
            for row in csv.DictReader(handle)
        )


def categories() -> tuple[str, ...]:
    """Category names in catalogue order."""
    return tuple(dict.fromkeys(i.category_name for i in items()))
