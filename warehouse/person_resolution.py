"""Which real person each source record is: the exact ID number first, then Splink for what it cannot settle.

1. Records with a full, validated ID number are one person per ID number.
2. A Fellegi–Sunter model (Splink on an in-memory DuckDB) scores pairs of records of which at least one has
   no full ID number — masked IDs (``210202********123X``), grid workers (name, phone), 12345 callers (phone)
   — found by blocking on birth date with the ID number's visible end or the surname, on phone, or on name
   within a community (the community a resident lives in, a worker's grid is in, a caller's order came from:
   only residents carry a street address, and one person is never two residents, so the address would never
   be compared). Its u-probabilities come from seeded random sampling and its m-probabilities from
   expectation maximisation on the night's own records (a fixed sample of them beyond ``TRAINING_RECORDS``).
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
# digest of the record's columns as sent that all of it comes from, so that a later night can tell the records
# it must resolve again (warehouse.person_delta). As sent: a record whose name gained a space or whose masked ID
# number is masked otherwise is resolved again too, and so its row in int_person_identities is written again.
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
    left(nullif(regexp_replace(full_name, '\\s', '', 'g'), ''), 1) as surname,
    phone,
    community_code,
    -- typed the same whether the records come straight from the warehouse or through pandas (a timestamp)
    md5(to_json(struct_pack(
        full_name, gender, birth_date := birth_date::date, id_number, phone, community_code
    ))::varchar) as feature_digest
from records
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


# The pairs at or above the threshold (``score_pairs``), as Arrow columns: as Python objects, a quarter city's
# 1.44M of them took 0.57 GiB.
PAIRS_SCHEMA = pa.schema([("left", pa.string()), ("right", pa.string()), ("probability", pa.float64())])


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


# The features as Splink's jobs take them: a frame, an Arrow table, or a stream of Arrow batches from the
# warehouse (then no copy of a city's records is held in Python).
Features = pd.DataFrame | pa.Table | pa.RecordBatchReader


def _load(db: DuckDBAPI, features: Features) -> int:
    """``features`` as the table ``features`` of Splink's DuckDB, in record order (the seeded sampling of u
    draws rows by position, and dbt hands the records over unordered); returns how many there are."""
    con = db.duckdb_con
    con.register("features_given", features)
    con.execute("create table features as select * from features_given order by record_id")
    con.unregister("features_given")
    return con.sql("select count(*) from features").fetchall()[0][0]


def train_model(features: Features, records: int | None = None) -> tuple[int, dict]:
    """Train the model on ``features``, a sample of ``records`` records (all of them when None: the chance
    that two persons share a phone depends on how many there are); returns how many records it was trained
    on and the model's settings and parameters (Splink's model JSON)."""
    with _db(threads=1) as db:
        trained_on = _load(db, features)
        linker = Linker(db.register("features"), _settings(records or trained_on), log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("phone"), block_on("full_name", "birth_date")], recall=0.9
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=U_SAMPLE_PAIRS, seed=SAMPLING_SEED)
        for rule in (block_on("birth_date", "id_suffix"), block_on("phone")):
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        model = linker.misc.save_model_to_json()
    del model["linker_uid"]  # a random name of this linker's tables, not part of the model
    return trained_on, model


def score_pairs(features: Features, model: dict, name_frequencies: pd.DataFrame | None = None) -> pa.Table:
    """The pairs ``model`` scores at or above the threshold among ``features`` (``PAIRS_SCHEMA``).

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
        _load(db, features)
        linker = Linker(db.register("features"), settings, log_level=logging.ERROR)
        if name_frequencies is not None:
            linker.table_management.register_term_frequency_lookup(db.register(name_frequencies), "full_name")
        scored = linker.inference.predict(threshold_match_probability=MATCH_THRESHOLD)
        # the three columns used, not Splink's every comparison column of every pair
        pairs = scored.as_duckdbpyrelation().select(
            'record_id_l as "left", record_id_r as "right", round(match_probability, 6) as probability'
        )
        return pairs.to_arrow_table().cast(PAIRS_SCHEMA)


# What a DuckDB of person resolution (Splink's, the clustering's) may hold before it spills to disk. Left to
# itself DuckDB takes up to 80 % of the machine, and a city's pairs took it there inside the dbt build beside
# the warehouse's own DuckDB.
SPLINK_MEMORY_LIMIT = "3GB"


@contextmanager
def _duckdb(threads: int | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for one job, capped and spilling to a scratch folder, closed after it."""
    config = {"memory_limit": SPLINK_MEMORY_LIMIT} | ({"threads": threads} if threads else {})
    with (
        tempfile.TemporaryDirectory(prefix="gridfusion-resolution-") as spill,
        duckdb.connect(config=config | {"temp_directory": spill}) as con,
    ):
        con.execute("set enable_progress_bar = false")  # not into the build's log
        yield con


@contextmanager
def _db(threads: int | None = None) -> Iterator[DuckDBAPI]:
    """Splink's DuckDB for one job. Training takes one thread: sums over pairs then add up in one order, so
    a rerun of a night gives the same model. Scoring takes every core: each pair is scored on its own."""
    with _duckdb(threads) as con:
        yield DuckDBAPI(con)


# Clustering's own tables beside ``features`` (with ``pos``, each row's number) in the DuckDB it runs in: the
# records' starting persons (kept, else the ID number, else the record itself), numbered.
CLUSTER_NODES_SQL = """
create or replace temp table cluster_starts as
select f.pos, coalesce(k.person_anchor, 'id:' || f.full_id, 'rec:' || f.record_id) as anchor,
    k.match_probability as kept_probability
from features as f left join cluster_kept as k using (record_id);
create or replace temp table cluster_nodes as
select anchor, row_number() over (order by anchor) - 1 as node
from (select distinct anchor from cluster_starts);
"""
# Record ids that the pairs, kept records or namesakes name but the features lack.
CLUSTER_UNKNOWN_SQL = """
select record_id from (
    select "left" as record_id from cluster_pairs union all select "right" from cluster_pairs
    union all select record_id from cluster_kept union all select worker from cluster_namesakes
    union all select resident from cluster_namesakes
) anti join features using (record_id)
order by record_id
limit 5
"""
# The pairs as rows of the features, strongest first, in one order.
CLUSTER_PAIRS_SQL = """
select l.pos as left_at, r.pos as right_at, p.probability
from cluster_pairs as p
join features as l on l.record_id = p."left"
join features as r on r.record_id = p."right"
order by p.probability desc, p."left", p."right"
"""
CLUSTER_NAMESAKES_SQL = """
select w.pos as worker_at, r.pos as resident_at
from cluster_namesakes as n
join features as w on w.record_id = n.worker
join features as r on r.record_id = n.resident
order by n.worker
"""
# Each record's person named by the ID number it carries, else its smallest phone, else its smallest record id.
CLUSTER_LINKS_SQL = """
select f.record_source, f.record_key,
    coalesce(id_node.anchor, 'tel:' || min(f.phone) over person, 'rec:' || min(f.record_id) over person)
        as person_anchor,
    case
        when f.full_id is not null then 'id_number'
        when c.by_namesake then 'namesake_in_community'
        when c.joined is not null then 'model'
        else 'single'
    end as resolved_by,
    c.joined as match_probability,
    f.feature_digest
from features as f
join cluster_persons as c using (pos)
left join cluster_nodes as id_node on id_node.node = c.id_node
window person as (partition by c.person)
order by f.pos
"""
CLUSTER_REGISTERED = ("cluster_kept", "cluster_pairs", "cluster_namesakes", "cluster_persons")


def _arrays(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, np.ndarray]:
    """A query's columns as numpy arrays (a NULL number as NaN)."""
    table = con.sql(sql).to_arrow_table()
    return {name: table[name].to_numpy() for name in table.column_names}


def cluster(
    features: pd.DataFrame,
    pairs: pa.Table,
    namesakes: dict[str, str] | None = None,
    kept: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """``cluster_features`` on a frame of features, in a DuckDB of its own."""
    text = ["record_source", "record_key", "record_id", "full_id", "phone", "feature_digest"]
    rows = pa.Table.from_pandas(features[text].astype("string"), preserve_index=False)
    with _duckdb() as con:
        con.register("features", rows.append_column("pos", pa.array(np.arange(len(features)))))
        return cluster_features(con, pairs, namesakes, kept).to_pandas()


def cluster_features(
    con: duckdb.DuckDBPyConnection,
    pairs: pa.Table,
    namesakes: dict[str, str] | None = None,
    kept: pd.DataFrame | None = None,
) -> pa.Table:
    """Join the records of ``features`` in ``con`` by ID number, then by the scored pairs strongest first,
    never across two ID numbers; then each grid worker still alone to its one namesake resident in
    ``namesakes`` (worker → resident). One row of int_person_links per record, in ``pos`` order.

    ``kept`` (record_id, person_anchor, match_probability) are records already resolved: each starts in its
    person (one node per anchor) with the probability that joined it, and the pairs join further.

    The text stays in DuckDB, which numbers the records and their starting persons and names the persons at
    the end; the union-find runs on integer arrays. A city's records as Python strings took gigabytes.
    """
    namesakes = namesakes or {}
    if kept is None:
        kept = pd.DataFrame({"record_id": [], "person_anchor": [], "match_probability": []})
    con.register(
        "cluster_kept",
        kept[["record_id", "person_anchor", "match_probability"]].astype(
            {"record_id": "string", "person_anchor": "string", "match_probability": float}
        ),
    )
    con.register("cluster_pairs", pairs)
    con.register(
        "cluster_namesakes",
        pa.table(
            {
                "worker": pa.array(list(namesakes), pa.string()),
                "resident": pa.array(list(namesakes.values()), pa.string()),
            }
        ),
    )
    try:
        unknown = [record_id for (record_id,) in con.sql(CLUSTER_UNKNOWN_SQL).fetchall()]
        if unknown:
            raise KeyError(f"records not among the features: {unknown}")
        con.execute(CLUSTER_NODES_SQL)
        starts = _arrays(
            con,
            "select node, kept_probability from cluster_starts join cluster_nodes using (anchor) order by pos",
        )
        carries_id = _arrays(con, "select anchor like 'id:%' as carries_id from cluster_nodes order by node")
        persons = _union(
            starts["node"],
            starts["kept_probability"].astype(float),
            carries_id["carries_id"],
            _arrays(con, CLUSTER_PAIRS_SQL),
            _arrays(con, CLUSTER_NAMESAKES_SQL),
        )
        con.register("cluster_persons", persons)
        return con.sql(CLUSTER_LINKS_SQL).to_arrow_table()
    finally:
        for name in CLUSTER_REGISTERED:
            con.unregister(name)
        con.execute("drop table if exists temp.cluster_starts")
        con.execute("drop table if exists temp.cluster_nodes")


# Pairs the union-find takes in as Python numbers at a time, rather than five lists of all of a city's.
UNION_PAIRS = 500_000


def _union(
    node_of_record: np.ndarray,
    joined: np.ndarray,
    carries_id: np.ndarray,
    pairs: dict[str, np.ndarray],
    namesakes: dict[str, np.ndarray],
) -> pa.Table:
    """The union-find of ``cluster_features`` on numbers: each record's (``pos``) person (its root node), the
    node of the ID number that person carries (-1 for none), the probability that joined it (``joined``,
    NaN for none, filled in here) and whether it joined by namesake."""
    nodes = np.arange(len(carries_id), dtype=np.int64)
    parent = array("q", nodes.tobytes())
    # per root, the node of the ID number its person carries, -1 for none
    id_node = array("q", np.where(carries_id, nodes, -1).tobytes())

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for start in range(0, len(pairs["left_at"]), UNION_PAIRS):  # as Python numbers a slice at a time
        at = slice(start, start + UNION_PAIRS)
        for a, b, left, right, probability in zip(
            node_of_record[pairs["left_at"][at]].tolist(),
            node_of_record[pairs["right_at"][at]].tolist(),
            pairs["left_at"][at].tolist(),
            pairs["right_at"][at].tolist(),
            pairs["probability"][at].tolist(),
            strict=True,
        ):
            a, b = root(a), root(b)
            if a == b or (id_node[a] >= 0 and id_node[b] >= 0):
                continue  # already one person, or two different ID numbers: the model may not merge them
            parent[b] = a
            if id_node[a] < 0:
                id_node[a] = id_node[b]
            for record in (left, right):
                if np.isnan(joined[record]):
                    joined[record] = probability

    alone = np.isnan(joined[namesakes["worker_at"]])  # workers no pair joined
    by_namesake = np.zeros(len(node_of_record), dtype=bool)
    by_namesake[namesakes["worker_at"][alone]] = True
    for worker, resident in zip(
        node_of_record[namesakes["worker_at"][alone]].tolist(),
        node_of_record[namesakes["resident_at"][alone]].tolist(),
        strict=True,
    ):
        parent[root(worker)] = root(resident)

    roots = np.frombuffer(parent, dtype=np.int64)
    while not np.array_equal(deeper := roots[roots], roots):
        roots = deeper
    person = roots[node_of_record]
    return pa.table(
        {
            "pos": np.arange(len(node_of_record)),
            "person": person,
            "id_node": np.frombuffer(id_node, dtype=np.int64)[person],
            "joined": pa.array(joined, from_pandas=True),
            "by_namesake": by_namesake,
        }
    )


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


@contextmanager
def features_in(con: duckdb.DuckDBPyConnection, records: str) -> Iterator[None]:
    """The temp table ``features`` in ``con`` (``FEATURES_SQL`` over the query ``records``, each row numbered
    ``pos``) while the block runs. In the warehouse's DuckDB they are capped and spill like any model; held
    in Python, a city's 16M records took several GiB more."""
    con.execute(f"create or replace temp view records as {records}")
    try:
        con.execute(
            f"create or replace temp table features as select *, row_number() over () - 1 as pos "
            f"from ({FEATURES_SQL})"
        )
        yield
    finally:
        con.execute("drop table if exists temp.features")
        con.execute("drop view if exists temp.records")


# The most records the model is trained on. Beyond it the model learns from a sample, each record in or out by
# a digest of its id: the same records give the same sample, and every blocking rule keeps the same share of
# its pairs (the share squared). A city's 15.8M records took 284 s to train on, on one thread. On a quarter of
# the city, an eighth of its 4.0M records trained in 16 s instead of 48, with the same m-probabilities to three
# decimals and u within a factor of two, and the persons it resolved scored the same against the truth.
TRAINING_RECORDS = 2_000_000
IN_SAMPLE = "md5_number(record_id) % 1000000 < {per_million}"


@contextmanager
def _streamed(
    con: duckdb.DuckDBPyConnection, per_million: int | None = None
) -> Iterator[pa.RecordBatchReader]:
    """The ``features`` of ``con`` (or the sample of ``per_million`` in a million of them, ``IN_SAMPLE``) as
    a stream of Arrow batches, closed after the block: a stream left open keeps ``con`` busy."""
    sample = "" if per_million is None else " where " + IN_SAMPLE.format(per_million=per_million)
    reader = con.sql("select * exclude (pos) from features" + sample).fetch_arrow_reader()
    try:
        yield reader
    finally:
        reader.close()


def needs_model(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any pair is left for the model in ``features``: two records, one of them without a full ID."""
    records, unsettled = con.sql("select count(*), count(*) - count(full_id) from features").fetchall()[0]
    return records > 1 and unsettled > 0


def train(con: duckdb.DuckDBPyConnection, records: str) -> tuple[int, dict] | None:
    """How many of ``records`` (a query on ``con``) the model is trained on (``TRAINING_RECORDS`` at most),
    and the model; None if no pair is left for a model."""
    with features_in(con, records):
        if not needs_model(con):
            return None
        total = con.sql("select count(*) from features").fetchall()[0][0]
        per_million = TRAINING_RECORDS * 1_000_000 // total if total > TRAINING_RECORDS else None
        with _streamed(con, per_million) as features:
            return train_model(features, total)


def resolve(con: duckdb.DuckDBPyConnection, records: str, model: dict | None) -> pa.Table:
    """One row per record of ``records`` (a query on ``con``, the warehouse) with its person anchor and how
    it was resolved; ``model`` (from ``train`` on these records) scores the pairs, when ``needs_model``."""
    with features_in(con, records):
        pairs = PAIRS_SCHEMA.empty_table()
        if model and needs_model(con):
            with _streamed(con) as features:
                pairs = score_pairs(features, model)
        return cluster_features(con, pairs, dict(con.sql(NAMESAKES_SQL).fetchall()))
