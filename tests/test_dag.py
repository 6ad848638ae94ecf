"""DAG integrity: every DAG imports, the nightly one is scheduled and shaped as the data team expects."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from airflow.dag_processing.dagbag import DagBag

from ingest.config import REPO_ROOT, load_date_for
from ingest.contracts import CONTRACTS, SYSTEMS


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


def test_every_dag_imports(dagbag):
    assert dagbag.import_errors == {}
    assert "gridfusion_nightly" in dagbag.dags


def test_nightly_runs_at_two_in_shanghai(dagbag):
    dag = dagbag.dags["gridfusion_nightly"]
    timetable = dag.timetable
    assert timetable._expression == "0 2 * * *"
    assert str(timetable._timezone) in ("Asia/Shanghai", "Timezone('Asia/Shanghai')")
    assert dag.max_active_runs == 1
    assert not dag.catchup


def test_each_entity_lands_then_validates_then_feeds_the_build(dagbag):
    dag = dagbag.dags["gridfusion_nightly"]
    for contract in CONTRACTS:
        land = dag.get_task(f"{contract.system}.land_{contract.entity}")
        validate = dag.get_task(f"{contract.system}.validate_{contract.entity}")
        assert land.downstream_task_ids == {validate.task_id}
        assert "build_warehouse" in validate.downstream_task_ids
        assert land.retries == 2 and validate.retries == 0
    assert {g for g in dag.task_group.children if g in SYSTEMS} == set(SYSTEMS)
    assert dag.get_task("build_warehouse").trigger_rule == "all_done"
    assert dag.get_task("publish").downstream_task_ids == {"summarise"}
    assert dag.get_task("summarise").trigger_rule == "all_done"


def test_no_cycles_and_one_sink(dagbag):
    dag = dagbag.dags["gridfusion_nightly"]
    order = dag.topological_sort()  # raises on a cycle
    assert len(order) == len(dag.tasks)
    assert [t.task_id for t in dag.tasks if not t.downstream_task_ids] == ["summarise"]


def test_a_run_loads_the_day_its_interval_starts_on():
    # the 02:00 (Shanghai) run on 11-02 covers [11-01 02:00, 11-02 02:00) and loads 11-01's drops
    interval_start = datetime(2026, 10, 31, 18, 0, tzinfo=UTC)
    assert load_date_for(interval_start) == date(2026, 11, 1)


def test_publish_updates_the_warehouse_asset_that_downstream_dags_follow(dagbag):
    from warehouse.assets import PUBLISHED_WAREHOUSE

    nightly = dagbag.dags["gridfusion_nightly"]
    assert PUBLISHED_WAREHOUSE in nightly.get_task("publish").outlets
    downstream = dagbag.dags["gridfusion_dashboard_refresh"]
    assert downstream.timetable.asset_condition.objects == (PUBLISHED_WAREHOUSE,)


def test_every_task_alerts_on_failure(dagbag):
    from warehouse.alerts import on_task_failure

    dag = dagbag.dags["gridfusion_nightly"]
    # a callable, not an import path: the task runner calls whatever it is given, item by item
    assert all(t.on_failure_callback == [on_task_failure] for t in dag.tasks)


def test_strict_mode_is_a_run_parameter_off_by_default(dagbag):
    assert dagbag.dags["gridfusion_nightly"].params["strict"] is False


def test_the_watchdog_checks_publication_at_seven_in_shanghai(dagbag):
    timetable = dagbag.dags["gridfusion_publish_watchdog"].timetable
    assert timetable._expression == "0 7 * * *" and "Asia/Shanghai" in str(timetable._timezone)


def test_only_the_warehouse_writers_take_the_one_slot_pool(dagbag):
    from warehouse.backfill import WRITER_POOL

    dag = dagbag.dags["gridfusion_nightly"]
    assert {t.task_id for t in dag.tasks if t.pool == WRITER_POOL} == {"build_warehouse", "publish"}


def test_a_referenced_entity_is_validated_first_across_task_groups(dagbag):
    from ingest.references import upstream

    dag = dagbag.dags["gridfusion_nightly"]
    validate = {c.key: dag.get_task(f"{c.system}.validate_{c.entity}") for c in CONTRACTS}
    assert "city.validate_grids" in validate["party.organizations"].upstream_task_ids  # across systems
    assert "party.validate_organizations" in validate["party.members"].upstream_task_ids
    for contract in CONTRACTS:
        expected = {f"{c.split('.')[0]}.validate_{c.split('.')[1]}" for c in upstream(contract)}
        assert expected <= validate[contract.key].upstream_task_ids
        # a rejected referenced batch does not stop the check: the keys accepted before still stand
        assert validate[contract.key].trigger_rule == ("all_done" if expected else "all_success")
