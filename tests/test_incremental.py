"""Incremental staging extends last night's warehouse and ends where a rebuild from every batch ends: after
late updates, a batch that replaces an earlier one of the same day, and with models the published warehouse
was not built from. Person resolution extends last night's persons with the night's new and changed records:
it ends with the persons a rebuild finds, though the pairs' probabilities come from the model of the last
full build rather than one trained tonight."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import duckdb
import pandas as pd
import pytest

from tests.conftest import DAYS, START, table_fingerprints
from warehouse.build import MODEL_VERSION_TABLE, model_version
from warehouse.identity_quality import measure_warehouse
from warehouse.night import run_night

LAST = START + timedelta(days=DAYS - 1)
WITHDRAWN_LINES = 5  # case rows the source takes back when it delivers the last day's extract again
# What a full build trains, and what depends on the trained probabilities rather than on who is whom: an
# incremental night keeps the model of the last full build, so these differ from a rebuild's.
MODEL_DEPENDENT = {
    "intermediate.int_person_match_model",
    "intermediate.int_person_links",
    "intermediate.int_person_identities",
}


class _Messages(logging.Handler):
    """What person resolution logs, night by night."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.nights: list[list[str]] = []

    def emit(self, record):
        self.nights[-1].append(record.getMessage())


def _links(home) -> pd.DataFrame:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return (
            con.sql("select * from intermediate.int_person_links")
            .df()
            .set_index(["record_source", "record_key"])
        )


# Rows of int_person_identities that are not their record joined to its link, and person keys that are not one
# per anchor: what an incremental night that missed a change would leave behind.
IDENTITY_MISMATCHES_SQL = """
with expected as (
    select r.record_source, r.record_key, r.full_name, r.gender, r.birth_date, r.id_number, r.phone,
        l.resolved_by, l.match_probability, l.resolution_run, l.person_anchor
    from intermediate.int_person_records as r
    join intermediate.int_person_links as l using (record_source, record_key)
)
select
    count(*) filter (
        where (i.full_name, i.gender, i.birth_date, i.id_number, i.phone, i.resolved_by, i.match_probability,
               i.resolution_run, i.record_key)
            is distinct from (e.full_name, e.gender, e.birth_date, e.id_number, e.phone, e.resolved_by,
               e.match_probability, e.resolution_run, e.record_key)
    ),
    count(distinct i.person_key) - count(distinct e.person_anchor),
    count(distinct (i.person_key, e.person_anchor)) - count(distinct e.person_anchor)
from intermediate.int_person_identities as i
full join expected as e using (record_source, record_key)
"""
# Persons of dim_person that are not the persons of int_person_identities with their record counts.
PERSON_MISMATCHES_SQL = """
select count(*) from marts.dim_person as d
full join (
    select person_key, count(*) as source_record_count from intermediate.int_person_identities group by all
) as i using (person_key)
where d.source_record_count is distinct from i.source_record_count
"""


def _mismatches(home) -> tuple[int, ...]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        (identities,) = con.sql(IDENTITY_MISMATCHES_SQL).fetchall()
        (persons,) = con.sql(PERSON_MISMATCHES_SQL).fetchall()
    return (*identities, *persons)


def _build_record(home) -> dict:
    return json.loads((home.reports / "build" / f"{LAST}.json").read_text())


def _cases(home) -> set[str]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return {r[0] for r in con.sql("select case_no from staging.stg_city__cases").fetchall()}


@pytest.fixture(scope="module")
def nights(tmp_path_factory, tiny_drops):
    """Every night in order, then the last day's cases delivered again without their last rows (a new batch
    replacing the first), built incrementally, then the same night rebuilt with ``full_refresh``."""
    import shutil

    from ingest.config import Paths

    root = tmp_path_factory.mktemp("incremental")
    drops = root / "drops"
    shutil.copytree(tiny_drops, drops)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRIDFUSION_HOME", str(root / "home"))
        env.setenv("GRIDFUSION_DROPS", str(drops))
        home = Paths.from_env()
        messages = _Messages()
        logger = logging.getLogger("warehouse.person_delta")
        logger.addHandler(messages)
        level, logger.level = logger.level, logging.INFO
        links_by_night, mismatches_by_night = [], []
        for n in range(DAYS):
            messages.nights.append([])
            run_night(START + timedelta(days=n), home)
            links_by_night.append(_links(home))
            mismatches_by_night.append(_mismatches(home))
        messages.nights.append([])  # the replacing batch: cases only, no person record changes
        extract = drops / "city" / LAST.isoformat() / "cases.csv"
        lines = extract.read_bytes().splitlines(keepends=True)
        withdrawn = {line.split(b",", 1)[0].decode() for line in lines[-WITHDRAWN_LINES:]}
        before_replacement = _cases(home)
        extract.write_bytes(b"".join(lines[:-WITHDRAWN_LINES]))
        run_night(LAST, home)
        logger.removeHandler(messages)
        logger.level = level
        incremental = table_fingerprints(home.warehouse)
        incremental_links = _links(home)
        incremental_quality = measure_warehouse(home.warehouse, tiny_drops / "truth")
        replaced = _build_record(home), _cases(home)
        run_night(LAST, home, full_refresh=True)
        rebuilt = table_fingerprints(home.warehouse), _build_record(home)
        rebuilt_links = _links(home)
        rebuilt_quality = measure_warehouse(home.warehouse, tiny_drops / "truth")
        with duckdb.connect(str(home.warehouse)) as con:  # as if built by an earlier release of the models
            con.execute(f"update {MODEL_VERSION_TABLE} set version = 'earlier'")
        run_night(LAST, home)
        yield {
            "home": home,
            "withdrawn": withdrawn,
            "before_replacement": before_replacement,
            "incremental": incremental,
            "replaced": replaced,
            "rebuilt": rebuilt,
            "messages": messages.nights,
            "links_by_night": [*links_by_night, incremental_links],
            "mismatches_by_night": mismatches_by_night,
            "rebuilt_links": rebuilt_links,
            "quality": (incremental_quality, rebuilt_quality),
            "after_model_change": (table_fingerprints(home.warehouse), _build_record(home)),
        }


def test_the_replacing_batch_builds_incrementally_and_takes_back_its_rows(nights):
    record, cases = nights["replaced"]
    assert not record["full_refresh"] and not record["tests_failed"]
    new_on_last_day = {c for c in nights["withdrawn"] if c.startswith(f"AJ{LAST:%Y%m%d}")}
    assert new_on_last_day, "the withdrawn rows should include cases first reported on the last day"
    assert new_on_last_day <= nights["before_replacement"]
    assert not new_on_last_day & cases  # only the replaced batch had them


def _without_model(fingerprints: dict) -> dict:
    return {t: f for t, f in fingerprints.items() if t not in MODEL_DEPENDENT}


def test_an_incremental_night_equals_a_rebuild_from_every_batch(nights):
    fingerprints, record = nights["rebuilt"]
    assert record["full_refresh"]
    incremental = _without_model(nights["incremental"])
    differing = {t for t in _without_model(fingerprints) if fingerprints[t] != incremental.get(t)}
    assert not differing and fingerprints.keys() == nights["incremental"].keys()


def test_a_warehouse_built_from_other_models_is_rebuilt_and_records_the_models_it_has(nights):
    fingerprints, record = nights["after_model_change"]
    assert record["full_refresh"]
    assert fingerprints == nights["rebuilt"][0]
    with duckdb.connect(str(nights["home"].warehouse), read_only=True) as con:
        assert con.execute(f"select version from {MODEL_VERSION_TABLE}").fetchone()[0] == model_version()


def test_incremental_persons_are_the_persons_of_a_rebuild(nights):
    """Every record resolved by its ID number has the same anchor, and every person the same records."""
    incremental, rebuilt = nights["links_by_night"][-1], nights["rebuilt_links"]
    assert incremental.index.sort_values().equals(rebuilt.index.sort_values())
    by_id = rebuilt["resolved_by"] == "id_number"
    assert by_id.sum() > 0
    assert incremental.loc[by_id[by_id].index, "person_anchor"].equals(rebuilt.loc[by_id, "person_anchor"])
    anchors = incremental["person_anchor"].reindex(rebuilt.index)
    assert (anchors == rebuilt["person_anchor"]).all(), rebuilt[anchors != rebuilt["person_anchor"]]
    assert (incremental["resolved_by"] != "single").sum() > by_id.sum()  # the model and namesakes joined some


def test_each_night_identities_and_persons_agree_with_their_records_and_links(nights):
    """Incremental, int_person_identities is every record joined to its link, with one person key per
    anchor, and dim_person every person of those records, night after night."""
    assert nights["mismatches_by_night"] == [(0, 0, 0, 0)] * DAYS


def test_links_kept_from_an_earlier_night_keep_the_run_that_wrote_them(nights):
    """After the first night, most links are the first night's, kept: only the rows resolved again are
    written again, here and in int_person_identities."""
    links = nights["links_by_night"][DAYS - 1]
    runs = links["resolution_run"].value_counts()
    assert len(runs) > 1 and runs[1] > runs.drop(1).sum()


def test_incremental_nights_resolve_as_well_as_a_rebuild(nights):
    incremental, rebuilt = nights["quality"]
    assert incremental.records_only_in_warehouse == 0
    assert incremental.precision >= max(rebuilt.precision, 0.99), incremental
    assert incremental.recall >= max(rebuilt.recall, 0.99), incremental


def test_a_night_resolves_only_its_new_and_changed_records(nights):
    """After the first night, only part of the records is resolved again and scored against only the records
    it can meet."""
    for messages in nights["messages"][1:DAYS]:
        counted = next(m for m in messages if "new or changed" in m)
        changed, total = (int(w) for w in counted.split(":")[1].split()[:3:2])
        assert 0 < changed < total, counted
        scored = next(m for m in messages if "scored against" in m)
        assert int(scored.split("scored against ")[1].split(":")[0]) < total, scored


def test_a_night_without_person_changes_scores_nothing_and_keeps_every_link(nights):
    """The replacing batch of cases changes no person record: no pair is scored, no row of
    int_person_links changes."""
    messages = nights["messages"][DAYS]
    assert any("nothing to resolve again" in m for m in messages), messages
    assert not any("scored against" in m for m in messages), messages
    before, after = nights["links_by_night"][DAYS - 1], nights["links_by_night"][DAYS]
    assert after.sort_index().equals(before.sort_index())
    assert not [t for t in nights["incremental"] if "__dbt_tmp" in t]  # nothing of the build left behind


def test_unchanged_persons_keep_their_anchor_from_night_to_night(nights):
    """A person of the first night whose records are all still there, unchanged, is still one person on the
    last night, under the same anchor unless a new record joined it."""
    first, last = nights["links_by_night"][0], nights["links_by_night"][DAYS - 1]
    kept = first.index.intersection(last.index)
    unchanged = set(kept[first.loc[kept, "feature_digest"] == last.loc[kept, "feature_digest"]])
    size_last = last.groupby("person_anchor").size()
    persons = kept_anchor = 0
    for anchor, group in first.groupby("person_anchor"):
        if not set(group.index) <= unchanged:
            continue
        persons += 1
        anchors_last = set(last.loc[group.index, "person_anchor"])
        assert len(anchors_last) == 1, (anchor, anchors_last)
        grew = size_last[next(iter(anchors_last))] > len(group)
        assert anchors_last == {anchor} or grew, (anchor, anchors_last)
        kept_anchor += anchors_last == {anchor}
    assert persons > len(first.groupby("person_anchor")) / 2
    assert kept_anchor > persons / 2
