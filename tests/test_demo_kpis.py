"""The KPI marts equal the simulator's truth on the ``demo`` preset too (three districts, 20,000 persons):
two days generated, each night landed, validated, built and published by ``run_night`` in one process."""

from __future__ import annotations

import time
from datetime import timedelta

import duckdb
import pytest

from ingest.config import Paths
from simulator.generate import generate
from tests.conftest import START, Truth
from tests.kpi_marts import KPI_MARTS, assert_kpi_mart_equals_the_truth, coverage_by_day
from warehouse.night import run_night, unloaded_entities

DEMO_DAYS = 2


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Paths, Truth]:
    root = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRIDFUSION_HOME", str(root / "home"))
        env.setenv("GRIDFUSION_DROPS", str(root / "drops"))
        began = time.monotonic()
        generate("demo", root / "drops", days=DEMO_DAYS, start=START)
        paths = Paths.from_env()
        for day in range(DEMO_DAYS):
            night = START + timedelta(days=day)
            run_night(night, paths)
            assert not unloaded_entities(night, paths), f"{night}: not every extract loaded"
        print(f"demo: {DEMO_DAYS} days generated and run in {time.monotonic() - began:.0f}s")
    return paths, Truth(root / "drops" / "truth")


@pytest.fixture(scope="module")
def analytics(demo):
    with duckdb.connect(str(demo[0].analytics), read_only=True) as con:
        yield con


@pytest.mark.parametrize("name", KPI_MARTS)
def test_demo_kpi_marts_equal_the_truth(analytics, demo, name):
    truth_rows = assert_kpi_mart_equals_the_truth(analytics, demo[1], name)
    assert truth_rows[truth_rows["date_day"] == truth_rows["date_day"].max()].shape[0] > 1


def test_demo_nights_span_a_dissolution_of_covering_organizations(demo):
    """The comparison above covers a day on each side of a grid branch's and a community committee's
    dissolution: every place covered on the first day, fewer on the last."""
    first, last = coverage_by_day(demo[1]).iloc[[0, -1]].itertuples(index=False)
    assert (
        first.grids_with_party_branch == first.grids
        and first.communities_with_party_committee == first.communities
    )
    assert (
        last.grids_with_party_branch < last.grids and last.communities_with_party_committee < last.communities
    )
