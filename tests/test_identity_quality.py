"""Person resolution against the simulator's truth, and the scoring that judges it."""

from __future__ import annotations

import json
import shutil

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from warehouse import person_resolution
from warehouse.cli import app
from warehouse.identity_quality import measure, measure_warehouse, truth_records
from warehouse.person_resolution import PAIRS_SCHEMA, cluster, resolve, train


def _records(rows: list[tuple[str, str]], column: str) -> pd.DataFrame:
    return pd.DataFrame(
        [("gov.residents", key, value) for key, value in rows],
        columns=["record_source", "record_key", column],
    )


def scored(*pairs: tuple[str, str, float]) -> pa.Table:
    """Pairs as ``score_pairs`` gives them."""
    return pa.Table.from_pylist(
        [dict(zip(PAIRS_SCHEMA.names, pair, strict=True)) for pair in pairs], schema=PAIRS_SCHEMA
    )


def test_any_change_to_what_a_record_says_of_its_person_changes_its_digest():
    """A record resolves again, and its identity row is written again, when its digest changes: so a name
    that only gained a space, or an ID number masked otherwise, must change it too."""
    records = pd.DataFrame(
        {
            "record_source": ["gov.residents"] * 5,
            "record_key": list("ABCDE"),
            "full_name": ["王五", "王 五", "王五", "王五", "王五"],
            "gender": ["男"] * 5,
            "birth_date": [pd.Timestamp("1980-01-01")] * 5,
            "id_number": ["210202********0011"] * 3 + ["210202******0011", "210202********0011"],
            "phone": ["+8613800000001"] * 4 + ["+8613800000002"],
            "community_code": ["210202001001"] * 5,
        }
    )
    with duckdb.connect() as con:
        con.register("records", records)
        digests = dict(
            con.sql(f"select record_key, feature_digest from ({person_resolution.FEATURES_SQL})").fetchall()
        )
    assert digests["A"] == digests["C"]
    assert len({digests[k] for k in "ABDE"}) == 4


def test_pairwise_scores_count_a_merge_and_a_split():
    truth = _records([("r1", "A"), ("r2", "A"), ("r3", "A"), ("r4", "B"), ("r5", "C")], "person_id")
    predicted = _records([("r1", "k1"), ("r2", "k1"), ("r3", "k2"), ("r4", "k2"), ("r6", "k3")], "person_key")
    quality = measure(predicted, truth)
    assert (quality.true_pairs, quality.predicted_pairs, quality.correct_pairs) == (3, 2, 1)
    assert quality.precision == 0.5
    assert quality.recall == round(1 / 3, 6)
    assert (quality.persons, quality.person_keys, quality.persons_exact) == (2, 2, 0)
    assert (quality.persons_split, quality.keys_merged) == (1, 1)
    assert (quality.records_scored, quality.records_only_in_warehouse, quality.records_only_in_truth) == (
        4,
        1,
        1,
    )


def test_a_record_without_id_joins_its_strongest_match_and_never_two_id_numbers():
    features = pd.DataFrame(
        {
            "record_source": ["party.members", "gov.residents", "city.grid_workers", "gov.hotline_callers"],
            "record_key": ["M1", "R1", "W1", "O1"],
            "full_id": ["210202198001010011", "210202197502020022", None, None],
            "phone": ["+8613800000001", "+8613800000002", "+8614700000003", "+8614700000003"],
        }
    )
    features["record_id"] = features["record_source"] + "|" + features["record_key"]
    features["feature_digest"] = features["record_id"]  # any value: clustering only carries it along
    worker, caller = "city.grid_workers|W1", "gov.hotline_callers|O1"
    pairs = scored(
        (worker, "gov.residents|R1", 0.97),
        (worker, "party.members|M1", 0.99),
        (caller, worker, 0.96),
    )
    links = cluster(features, pairs, {worker: "gov.residents|R1"}).set_index("record_key")
    assert links.loc["W1", "person_anchor"] == links.loc["O1", "person_anchor"] == "id:210202198001010011"
    assert links.loc["R1", "person_anchor"] == "id:210202197502020022"
    assert list(links["resolved_by"]) == ["id_number", "id_number", "model", "model"]
    assert links.loc["O1", "match_probability"] == 0.96


def test_resolution_on_tiny_reaches_precision_and_recall_of_099(nightly_run, truth):
    quality = measure_warehouse(nightly_run.paths.warehouse, truth.folder)
    assert quality.records_only_in_warehouse == 0
    assert quality.records_scored > quality.persons  # persons with several records are there to resolve
    assert quality.precision >= 0.99, quality
    assert quality.recall >= 0.99, quality


def test_a_model_trained_on_a_sample_resolves_as_well(nightly_run, truth, tmp_path, monkeypatch):
    """Beyond ``TRAINING_RECORDS`` the model learns from a sample: the same one every time, and good enough."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(nightly_run.paths.warehouse, warehouse)
    records = "select * from intermediate.int_person_records"
    with duckdb.connect(str(warehouse)) as con:
        total = con.sql(f"select count(*) from ({records})").fetchall()[0][0]
        monkeypatch.setattr(person_resolution, "TRAINING_RECORDS", total // 2)
        trained_on, model = train(con, records)
        assert train(con, records) == (trained_on, model)
        links = resolve(con, records, model).to_pandas()
    assert 0.4 * total < trained_on < 0.6 * total
    predicted = links.rename(columns={"person_anchor": "person_key"})
    quality = measure(predicted[["record_source", "record_key", "person_key"]], truth_records(truth.folder))
    assert quality.precision >= 0.99, quality
    assert quality.recall >= 0.99, quality


def test_workers_known_by_a_work_phone_are_found_by_name_and_community(nightly_run, truth):
    """Their phone is in no other system: only their name and their grid's community lead to their person."""
    with duckdb.connect(str(nightly_run.paths.warehouse), read_only=True) as con:
        workers = con.sql(
            "select record_key, resolved_by, person_key from intermediate.int_person_identities "
            "where record_source = 'city.grid_workers' and phone like '+86147%'"
        ).df()
        others = con.sql(
            "select person_key from intermediate.int_person_identities where record_source = 'gov.residents'"
        ).df()
    assert len(workers) >= 1
    assert set(workers["resolved_by"]) <= {"model", "namesake_in_community"}
    assert set(workers["person_key"]) <= set(others["person_key"])


def test_identity_quality_command_prints_and_writes_the_scores(nightly_run, truth, tmp_path):
    out = tmp_path / "identity_quality.json"
    result = CliRunner().invoke(
        app,
        [
            "identity-quality",
            "--truth",
            str(truth.folder),
            "--warehouse",
            str(nightly_run.paths.warehouse),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    assert f"precision {written['precision']:.4f}" in result.output
    assert written["persons"] == truth.summary["persons"]


@pytest.mark.parametrize("union_pairs", [person_resolution.UNION_PAIRS, 1])
def test_a_new_record_joins_kept_persons_and_never_two_id_numbers(union_pairs, monkeypatch):
    """Incremental clustering: kept records start in their persons; a new record may join two of them. The
    union-find takes the pairs in slices: one pair a slice joins the same persons."""
    monkeypatch.setattr(person_resolution, "UNION_PAIRS", union_pairs)
    rows = [
        ("gov.hotline_callers", "A1", None, "+8613000000001"),
        ("gov.hotline_callers", "A2", None, "+8613000000001"),
        ("gov.hotline_callers", "B1", None, "+8613000000002"),
        ("party.members", "C1", "210202198001010011", None),
        ("party.members", "D1", "210202197502020022", None),
        ("city.grid_workers", "N", None, "+8614700000003"),
        ("city.grid_workers", "M", None, None),
    ]
    features = pd.DataFrame(rows, columns=["record_source", "record_key", "full_id", "phone"])
    features["record_id"] = features["record_source"] + "|" + features["record_key"]
    features["feature_digest"] = features["record_id"]
    kept = pd.DataFrame(
        {
            "record_id": features["record_id"][:5],
            "person_anchor": [
                "tel:+8613000000001",
                "tel:+8613000000001",
                "tel:+8613000000002",
                "id:210202198001010011",
                "id:210202197502020022",
            ],
            "match_probability": [0.99, 0.99, None, None, None],
        }
    )
    pairs = scored(
        ("city.grid_workers|N", "gov.hotline_callers|A1", 0.97),
        ("city.grid_workers|N", "gov.hotline_callers|B1", 0.96),
        ("city.grid_workers|M", "party.members|C1", 0.99),
        ("city.grid_workers|M", "party.members|D1", 0.98),
    )
    links = cluster(features, pairs, {}, kept).set_index("record_key")
    assert set(links.loc[["A1", "A2", "B1", "N"], "person_anchor"]) == {"tel:+8613000000001"}
    assert links.loc["B1", "match_probability"] == 0.96 and links.loc["B1", "resolved_by"] == "model"
    assert links.loc["A1", "match_probability"] == 0.99  # kept: the pair that first joined it
    assert links.loc["M", "person_anchor"] == links.loc["C1", "person_anchor"] == "id:210202198001010011"
    assert links.loc["D1", "person_anchor"] == "id:210202197502020022"
