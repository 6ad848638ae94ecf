"""How well person resolution matches the truth: pairwise precision and recall, and whole-person counts.

A pair of source records is *predicted* same-person when they share a ``person_key`` in
``intermediate.int_person_identities``, and *truly* same-person when the simulator's ``truth/person_records``
gives them the same ``person_id``. Pairs are counted from the contingency of key and person, never listed,
so a city-sized warehouse is measured as cheaply as a tiny one. Only records present on both sides are scored;
the others (quarantined in the warehouse, or unknown to the truth) are counted beside the score.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd

PREDICTED_SQL = "select record_source, record_key, person_key from intermediate.int_person_identities"


@dataclass(frozen=True)
class IdentityQuality:
    records_scored: int
    records_only_in_warehouse: int
    records_only_in_truth: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    persons: int  # true persons among the scored records
    person_keys: int  # persons the warehouse resolved them into
    persons_exact: int  # true persons whose records are exactly one person key
    persons_split: int  # true persons spread over more than one key
    keys_merged: int  # keys that hold records of more than one true person

    def as_dict(self) -> dict:
        return asdict(self)


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def truth_records(truth_dir: Path) -> pd.DataFrame:
    records = pd.read_parquet(truth_dir / "person_records.parquet")
    records["record_source"] = records["system"] + "." + records["entity"]
    return records[["record_source", "record_key", "person_id"]]


def predicted_records(warehouse: Path) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(PREDICTED_SQL).df()


def measure(predicted: pd.DataFrame, truth: pd.DataFrame) -> IdentityQuality:
    """Score ``predicted`` (record_source, record_key, person_key) against ``truth`` (…, person_id)."""
    keys = ["record_source", "record_key"]
    joined = predicted.merge(truth, on=keys, how="outer", indicator=True)
    scored = joined[joined["_merge"] == "both"]
    by_key = scored.groupby("person_key").size()
    by_person = scored.groupby("person_id").size()
    correct = _pairs(scored.groupby(["person_key", "person_id"]).size())
    predicted_pairs, true_pairs = _pairs(by_key), _pairs(by_person)
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    keys_per_person = scored.groupby("person_id")["person_key"].nunique()
    persons_per_key = scored.groupby("person_key")["person_id"].nunique()
    exact = scored.groupby("person_id")["person_key"].first()
    exact = exact[(keys_per_person == 1) & (persons_per_key.reindex(exact.values).values == 1)]
    return IdentityQuality(
        records_scored=len(scored),
        records_only_in_warehouse=int((joined["_merge"] == "left_only").sum()),
        records_only_in_truth=int((joined["_merge"] == "right_only").sum()),
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
        precision=round(precision, 6),
        recall=round(recall, 6),
        f1=round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 6),
        persons=len(by_person),
        person_keys=len(by_key),
        persons_exact=len(exact),
        persons_split=int((keys_per_person > 1).sum()),
        keys_merged=int((persons_per_key > 1).sum()),
    )


def measure_warehouse(warehouse: Path, truth_dir: Path, out: Path | None = None) -> IdentityQuality:
    quality = measure(predicted_records(warehouse), truth_records(truth_dir))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(quality.as_dict(), indent=2))
    return quality
