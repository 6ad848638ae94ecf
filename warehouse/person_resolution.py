"""Which real person each source record is: the exact ID number first, then Splink for what it cannot settle.

1. Records with a full, validated ID number are one person per ID number.
2. A Fellegi–Sunter model (Splink on an in-memory DuckDB) scores pairs of records of which at least one has
   no full ID number — masked IDs (``210202********123X``), grid workers (name, phone), 12345 callers (phone)
   — found by blocking on birth date, on phone, or on name within a community (the community a resident
   lives in, a worker's grid is in, a caller's order came from: only residents carry a street address, and
   one person is never two residents, so the address would never be compared). Its u-probabilities come from
   seeded random sampling and its m-probabilities from expectation maximisation on the night's own records.
3. Pairs at or above ``MATCH_THRESHOLD`` join their records, strongest first; a join that would put two
   different ID numbers in one person is refused.

Each record's person is named by an anchor — ``id:<ID number>``, else ``tel:<phone>``, else ``rec:<record>`` —
that dbt turns into the keyed pseudonym. Anchors carry personal data: the result stays in the internal
warehouse.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

MATCH_THRESHOLD = 0.95
SAMPLING_SEED = 20261101
U_SAMPLE_PAIRS = 1e6

# What Splink compares, one row per record: the ID number only where it is full, and its visible ends.
FEATURES_SQL = """
select
    record_source || '|' || record_key as record_id,
    record_source,
    record_key,
    nullif(regexp_replace(full_name, '\\s', '', 'g'), '') as full_name,
    gender,
    birth_date,
    case when id_number not like '%*%' then id_number end as full_id,
    left(id_number, 6) as id_prefix,
    right(id_number, 4) as id_suffix,
    phone,
    community_code
from records
"""

UNSETTLED = "(l.full_id is null or r.full_id is null)"


@dataclass(frozen=True)
class ScoredPair:
    left: str
    right: str
    probability: float


def _agreement_with_fixed_m(column: str, agree: float) -> cl.CustomComparison:
    """Agree/disagree with a set share of true matches agreeing.

    Expectation maximisation cannot learn these here: the pairs where both sides carry the column (two
    residents) are almost never the same person, so the share would collapse to zero and stop training.
    """
    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(m_probability=agree, fix_m_probability=True),
            cll.ElseLevel().configure(m_probability=1 - agree, fix_m_probability=True),
        ],
    )


def _settings() -> SettingsCreator:
    visible_id = cl.CustomComparison(
        output_column_name="id_number",
        comparison_levels=[
            cll.CustomLevel("id_suffix_l is null or id_suffix_r is null").configure(is_null_level=True),
            cll.CustomLevel(
                "id_prefix_l = id_prefix_r and id_suffix_l = id_suffix_r", "visible characters agree"
            ),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            visible_id,
            cl.JaroWinklerAtThresholds("full_name", [0.8]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("birth_date"),
            _agreement_with_fixed_m("gender", agree=0.99),
            cl.ExactMatch("phone"),
            _agreement_with_fixed_m("community_code", agree=0.9),
        ],
        blocking_rules_to_generate_predictions=[
            f"l.birth_date = r.birth_date and {UNSETTLED}",
            f"l.phone = r.phone and {UNSETTLED}",
            f"l.full_name = r.full_name and l.community_code = r.community_code and {UNSETTLED}",
        ],
        retain_intermediate_calculation_columns=False,
    )


def score_pairs(features: pd.DataFrame) -> list[ScoredPair]:
    """Train the model on ``features`` and return the pairs it scores at or above the threshold."""
    db = DuckDBAPI(duckdb.connect())
    linker = Linker(db.register(features), _settings(), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("phone"), block_on("full_name", "birth_date")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=SAMPLING_SEED)
    for rule in (block_on("birth_date"), block_on("phone")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    scored = linker.inference.predict(threshold_match_probability=MATCH_THRESHOLD).as_pandas_dataframe()
    return [
        ScoredPair(row.record_id_l, row.record_id_r, float(row.match_probability))
        for row in scored.itertuples()
    ]


def cluster(features: pd.DataFrame, pairs: list[ScoredPair]) -> pd.DataFrame:
    """Join records by ID number, then by the scored pairs strongest first, never across two ID numbers."""
    node = {
        r.record_id: f"id:{r.full_id}" if pd.notna(r.full_id) else f"rec:{r.record_id}"
        for r in features.itertuples()
    }
    parent = {n: n for n in node.values()}
    id_of = {n: n[3:] if n.startswith("id:") else None for n in parent}
    joined_at: dict[str, float] = {}

    def root(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for pair in sorted(pairs, key=lambda p: (-p.probability, p.left, p.right)):
        a, b = root(node[pair.left]), root(node[pair.right])
        if a == b or (id_of[a] and id_of[b]):
            continue  # already one person, or two different ID numbers: the model may not merge them
        parent[b] = a
        id_of[a] = id_of[a] or id_of[b]
        for record in (pair.left, pair.right):
            joined_at.setdefault(record, pair.probability)

    out = features[["record_source", "record_key", "record_id", "full_id", "phone"]].copy()
    out["cluster"] = [root(node[r]) for r in out["record_id"]]
    phones = out.groupby("cluster")["phone"].transform("min")
    first = out.groupby("cluster")["record_id"].transform("min")
    cluster_id = out["cluster"].map(id_of)
    out["person_anchor"] = ("id:" + cluster_id).fillna("tel:" + phones).fillna("rec:" + first)
    out["match_probability"] = out["record_id"].map(joined_at)
    out["resolved_by"] = "single"
    out.loc[out["match_probability"].notna(), "resolved_by"] = "model"
    out.loc[out["full_id"].notna(), "resolved_by"] = "id_number"
    return out[["record_source", "record_key", "person_anchor", "resolved_by", "match_probability"]]


def resolve(records: pd.DataFrame) -> pd.DataFrame:
    """One row per record of ``int_person_records`` with its person anchor and how it was resolved."""
    con = duckdb.connect()
    con.register("records", records)
    features = con.sql(FEATURES_SQL).df()
    unsettled = features["full_id"].isna().sum()
    pairs = score_pairs(features) if unsettled and len(features) > 1 else []
    return cluster(features, pairs)
