"""Which real person each source record is: the exact ID number first, then Splink for what it cannot settle.

1. Records with a full, validated ID number are one person per ID number.
2. A Fellegi–Sunter model (Splink on an in-memory DuckDB) scores pairs of records of which at least one has
   no full ID number — masked IDs (``210202********123X``), grid workers (name, phone), 12345 callers (phone)
   — found by blocking on birth date with the ID number's visible end or the surname, on phone, or on name
   within a community (the community a resident lives in, a worker's grid is in, a caller's order came from:
   only residents carry a street address, and one person is never two residents, so the address would never
   be compared). Its u-probabilities come from
   seeded random sampling and its m-probabilities from expectation maximisation on the night's own records.
3. Pairs at or above ``MATCH_THRESHOLD`` join their records, strongest first; a join that would put two
   different ID numbers in one person is refused.
4. A grid worker still alone joins the one resident of their grid's community with the same name, if only
   one resident there has it (``NAMESAKES_SQL``).

Each record's person is named by an anchor — ``id:<ID number>``, else ``tel:<phone>``, else ``rec:<record>`` —
that dbt turns into the keyed pseudonym. Anchors carry personal data: the result stays in the internal
warehouse.
"""

from __future__ import annotations

import logging
import tempfile
from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

MATCH_THRESHOLD = 0.95
SAMPLING_SEED = 20261101
U_SAMPLE_PAIRS = 1e6
# Share of people who give a phone that someone else also gives (a family's shared mobile).
SHARED_PHONE_SHARE = 0.01
# Share of a person's records that carry a different phone from the rest.
OTHER_PHONE_SHARE = 0.1

# What Splink compares, one row per record: the ID number only where it is full, and its visible ends; and a
# digest of all of it, so that a later night can tell the records it must resolve again (warehouse.person_delta).
FEATURES_SQL = """
with features as (
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
        left(nullif(regexp_replace(full_name, '\\s', '', 'g'), ''), 1) as surname,
        phone,
        community_code
    from records
)
select
    *,
    -- typed the same whether the records come straight from the warehouse or through pandas (a timestamp)
    md5(to_json(struct_pack(
        full_name, gender, birth_date := birth_date::date, full_id, id_prefix, id_suffix, phone, community_code
    ))::varchar) as feature_digest
from features
"""

UNSETTLED = "(l.full_id is null or r.full_id is null)"
# The pairs scored: records born the same day with the same visible ID number end or the same surname, sharing
# a phone, or of one name in one community. A birth date alone is no block in a city: its 7.9M records with one
# share 24k dates, 624M pairs; with the ID number's end or the surname beside it, 0.2M and 12M.
BLOCKING_KEYS = (
    ("birth_date", "id_suffix"),
    ("birth_date", "surname"),
    ("phone",),
    ("full_name", "community_code"),
)
BLOCKING_RULES = tuple(
    " and ".join(f"l.{key} = r.{key}" for key in keys) + f" and {UNSETTLED}" for keys in BLOCKING_KEYS
)


# One row of int_person_links.
LINK_COLUMNS = [
    "record_source",
    "record_key",
    "person_anchor",
    "resolved_by",
    "match_probability",
    "feature_digest",
]


@dataclass(frozen=True)
class ScoredPair:
    left: str
    right: str
    probability: float


def _agreement(column: str, m_agree: float, u_agree: float | None = None) -> cl.CustomComparison:
    """Agree/disagree with a set share of true matches agreeing, and optionally of non-matches too.

    Expectation maximisation cannot learn the matches' share here: the pairs where both sides carry a
    community or gender are two residents, almost never one person; and on a clean night every match it
    sees shares a phone, which would make one changed phone veto any link.
    """
    agree, other = cll.ExactMatchLevel(column), cll.ElseLevel()
    if u_agree is None:
        agree, other = (
            agree.configure(m_probability=m_agree, fix_m_probability=True),
            other.configure(m_probability=1 - m_agree, fix_m_probability=True),
        )
    else:
        agree = agree.configure(
            m_probability=m_agree, fix_m_probability=True, u_probability=u_agree, fix_u_probability=True
        )
        other = other.configure(
            m_probability=1 - m_agree,
            fix_m_probability=True,
            u_probability=1 - u_agree,
            fix_u_probability=True,
        )
    return cl.CustomComparison(
        output_column_name=column, comparison_levels=[cll.NullLevel(column), agree, other]
    )


def _phone(records: int) -> cl.CustomComparison:
    """Phone agreement, with its chances set rather than estimated.

    A phone is nearly unique, so random pairs that share one are almost all the same person: sampling would
    put its non-match chance at about the match rate itself and leave a shared phone at even odds. Among
    different persons it is the shared-phone share spread over everyone else; among records of one person
    some carry another phone (a work mobile, a changed number).
    """
    return _agreement("phone", m_agree=1 - OTHER_PHONE_SHARE, u_agree=SHARED_PHONE_SHARE / max(records, 1))


def _settings(records: int) -> SettingsCreator:
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
            _agreement("gender", m_agree=0.99),
            _phone(records),
            _agreement("community_code", m_agree=0.9),
        ],
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
        retain_intermediate_calculation_columns=False,
    )


def train_model(features: pd.DataFrame) -> dict:
    """Train the model on ``features``; returns its settings and parameters (Splink's model JSON)."""
    # in one order: the seeded sampling of u draws rows by position, and dbt hands the records over unordered
    features = features.sort_values("record_id", ignore_index=True)
    with _db() as db:
        linker = Linker(db.register(features), _settings(len(features)), log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("phone"), block_on("full_name", "birth_date")], recall=0.9
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=SAMPLING_SEED)
        for rule in (block_on("birth_date", "id_suffix"), block_on("phone")):
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        model = linker.misc.save_model_to_json()
    del model["linker_uid"]  # a random name of this linker's tables, not part of the model
    return model


def score_pairs(
    features: pd.DataFrame, model: dict, name_frequencies: pd.DataFrame | None = None
) -> list[ScoredPair]:
    """The pairs ``model`` scores at or above the threshold among ``features``.

    With ``name_frequencies`` (``full_name``, ``tf_full_name``: each name's share of a larger set of records)
    the names are weighed by that set rather than by ``features``, and only pairs of which one side is
    marked ``touched`` are scored: ``features`` is then the part of the records that the touched ones can
    meet through the blocking rules.
    """
    settings = dict(model)
    if name_frequencies is not None:
        settings["blocking_rules_to_generate_predictions"] = [
            f"{rule} and (l.touched or r.touched)" for rule in BLOCKING_RULES
        ]
    with _db() as db:
        linker = Linker(db.register(features), settings, log_level=logging.ERROR)
        if name_frequencies is not None:
            linker.table_management.register_term_frequency_lookup(db.register(name_frequencies), "full_name")
        scored = linker.inference.predict(threshold_match_probability=MATCH_THRESHOLD)
        # the three columns used, not Splink's every comparison column of every pair
        pairs = scored.as_duckdbpyrelation().select("record_id_l, record_id_r, match_probability").fetchall()
    return [ScoredPair(left, right, round(float(probability), 6)) for left, right, probability in pairs]


# What Splink's DuckDB may hold before it spills to disk. Left to itself DuckDB takes up to 80 % of the
# machine, and a city's pairs took it there inside the dbt build beside the warehouse's own DuckDB.
SPLINK_MEMORY_LIMIT = "3GB"


@contextmanager
def _db() -> Iterator[DuckDBAPI]:
    """Splink's DuckDB for one job, closed after it (with its tables) rather than left to the collector.
    One thread: sums over pairs then add up in one order, so a rerun of a night gives the same model."""
    with (
        tempfile.TemporaryDirectory(prefix="gridfusion-resolution-") as spill,
        duckdb.connect(
            config={"threads": 1, "memory_limit": SPLINK_MEMORY_LIMIT, "temp_directory": spill}
        ) as con,
    ):
        yield DuckDBAPI(con)


def _positions(index: pd.Index, record_ids) -> np.ndarray:
    """Each record id's row in ``index``; an id that is not there is an error, never row -1."""
    found = index.get_indexer(pd.Index(record_ids, dtype="string"))
    if (found < 0).any():
        raise KeyError(f"records not among the features: {list(pd.Index(record_ids)[found < 0][:5])}")
    return found


def cluster(
    features: pd.DataFrame,
    pairs: list[ScoredPair],
    namesakes: dict[str, str] | None = None,
    kept: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Join records by ID number, then by the scored pairs strongest first, never across two ID numbers;
    then each grid worker still alone to its one namesake resident in ``namesakes`` (worker → resident).

    ``kept`` (record_id, person_anchor, match_probability) are records already resolved: each starts in its
    person (one node per anchor) with the probability that joined it, and the pairs join further.

    Nodes are numbered and the union-find runs on compact integer arrays: a city's 9.7M records held as
    dictionaries of strings took gigabytes.
    """
    record_ids = pd.Index(features["record_id"], dtype="string")
    anchors = ("id:" + features["full_id"].astype("string")).fillna(
        "rec:" + features["record_id"].astype("string")
    )
    joined = np.full(len(features), np.nan)  # the probability that joined each record, NaN if none did
    if kept is not None:
        at = _positions(record_ids, kept["record_id"])
        anchors = anchors.to_numpy(dtype=object)
        anchors[at] = kept["person_anchor"].to_numpy(dtype=object)
        joined[at] = kept["match_probability"].to_numpy(dtype=float, na_value=np.nan)
    node_of_record, node_names = pd.factorize(pd.Series(anchors, dtype="string"))
    nodes = np.arange(len(node_names), dtype=np.int64)
    parent = array("q", nodes.tobytes())
    # per root, the node of the ID number its person carries, -1 for none
    carries_id = pd.Series(node_names, dtype="string").str.startswith("id:").to_numpy(dtype=bool)
    id_node = array("q", np.where(carries_id, nodes, -1).tobytes())

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    order = pd.DataFrame(
        {
            "left": pd.Series([p.left for p in pairs], dtype="string"),
            "right": pd.Series([p.right for p in pairs], dtype="string"),
            "probability": pd.Series([p.probability for p in pairs], dtype=float),
        }
    ).sort_values(["probability", "left", "right"], ascending=[False, True, True])
    left, right = _positions(record_ids, order["left"]), _positions(record_ids, order["right"])
    for a, b, records, probability in zip(
        node_of_record[left].tolist(),
        node_of_record[right].tolist(),
        zip(left.tolist(), right.tolist(), strict=True),
        order["probability"].tolist(),
        strict=True,
    ):
        a, b = root(a), root(b)
        if a == b or (id_node[a] >= 0 and id_node[b] >= 0):
            continue  # already one person, or two different ID numbers: the model may not merge them
        parent[b] = a
        if id_node[a] < 0:
            id_node[a] = id_node[b]
        for record in records:
            if np.isnan(joined[record]):
                joined[record] = probability

    namesakes = namesakes or {}
    workers = sorted(namesakes)
    worker_at = _positions(record_ids, workers)
    alone = np.isnan(joined[worker_at])  # workers no pair joined
    by_namesake = [w for w, is_alone in zip(workers, alone, strict=True) if is_alone]
    residents_at = _positions(record_ids, [namesakes[w] for w in by_namesake])
    for worker, resident in zip(
        node_of_record[worker_at[alone]].tolist(), node_of_record[residents_at].tolist(), strict=True
    ):
        parent[root(worker)] = root(resident)

    roots = np.frombuffer(parent, dtype=np.int64)
    while not np.array_equal(deeper := roots[roots], roots):
        roots = deeper
    out = features[["record_source", "record_key", "record_id", "full_id", "phone", "feature_digest"]].copy()
    out["cluster"] = roots[node_of_record]
    # as strings: on a night with no ID numbers (or no phones) a column of NaN would be float
    phones = out.groupby("cluster")["phone"].transform("min").astype("string")
    first = out.groupby("cluster")["record_id"].transform("min").astype("string")
    id_nodes = np.frombuffer(id_node, dtype=np.int64)[out["cluster"].to_numpy()]
    ids = pd.Series(node_names, dtype="string").str.slice(3).to_numpy(dtype=object)
    cluster_id = pd.Series(
        np.where(id_nodes >= 0, ids[np.maximum(id_nodes, 0)], None), index=out.index, dtype="string"
    )
    out["person_anchor"] = ("id:" + cluster_id).fillna("tel:" + phones).fillna("rec:" + first)
    out["match_probability"] = joined
    out["resolved_by"] = "single"
    out.loc[out["match_probability"].notna(), "resolved_by"] = "model"
    out.loc[out["record_id"].isin(by_namesake), "resolved_by"] = "namesake_in_community"
    out.loc[out["full_id"].notna(), "resolved_by"] = "id_number"
    return out[LINK_COLUMNS]


# A grid worker lives in the community of their grid. One the model cannot link (their phone is a work
# mobile no other system knows, and a name and community are too common to reach the threshold) is the
# resident of that community with the same name, when exactly one resident there has it.
NAMESAKES_SQL = """
select w.record_id as worker, min(r.record_id) as resident
from features as w
join features as r
    on r.record_source = 'gov.residents'
    and r.full_name = w.full_name
    and r.community_code = w.community_code
where w.record_source = 'city.grid_workers'
group by w.record_id
having count(*) = 1
"""


def features_of(records: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """``FEATURES_SQL`` over ``records`` (rows of ``int_person_records``), its text Arrow-backed: a city's
    9.7M records as Python strings took several GiB more."""
    con = duckdb.connect()
    con.register("records", records)
    return con.sql(FEATURES_SQL).to_arrow_table().to_pandas()


def namesakes_of(features: pd.DataFrame) -> dict[str, str]:
    con = duckdb.connect()
    con.register("features", features)
    return dict(con.sql(NAMESAKES_SQL).fetchall())


def needs_model(features: pd.DataFrame) -> bool:
    """Whether any pair is left for the model: at least two records and one of them without a full ID."""
    return len(features) > 1 and bool(features["full_id"].isna().any())


def resolve(features: pd.DataFrame, model: dict | None) -> pd.DataFrame:
    """One row per record of ``features`` with its person anchor and how it was resolved; ``model`` (from
    ``train_model`` on these features) scores the pairs, when ``needs_model``."""
    pairs = score_pairs(features, model) if model and needs_model(features) else []
    return cluster(features, pairs, namesakes_of(features))
