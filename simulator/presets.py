"""Scale presets: how big a city to simulate."""

from __future__ import annotations

from dataclasses import dataclass, replace

from simulator.places import DALIAN_DISTRICTS


@dataclass(frozen=True)
class Preset:
    name: str
    districts: tuple[str, ...]
    streets_per_district: int
    communities_per_street: int
    grids_per_community: int
    persons: int
    member_rate: float  # share of adults who are party members
    part_time_workers_per_grid: float
    cases_per_grid_per_day: float
    hotline_orders_per_day: int
    page_size: int
    days: int
    history_days: int = 0  # days of cases and orders before the first drop, delivered in it as the full load
    unit_branches_per_community: int = 0  # party branches of resident units, under the community committee
    newcomer_share: float = 0.1  # share of persons who move in during the simulated days, not before
    council_meetings_per_grid_per_day: float = 0.05  # 网格议事会: about one a grid every three weeks

    def scaled(self, fraction: float) -> Preset:
        """The same city at ``fraction`` of its persons, communities (so grids and cases) and 12345 orders."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction}")
        if fraction == 1:
            return self
        districts = len(self.districts)
        communities = districts * self.streets_per_district * self.communities_per_street * fraction
        streets = max(1, round(self.streets_per_district * fraction))
        return replace(
            self,
            name=f"{self.name}@{fraction:g}",
            streets_per_district=streets,
            communities_per_street=max(1, round(communities / (districts * streets))),
            persons=max(100, round(self.persons * fraction)),
            hotline_orders_per_day=max(1, round(self.hotline_orders_per_day * fraction)),
        )


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        "tiny", ("210202",), 2, 2, 3, 600, 0.12, 0.5, 2.0, 15, 100, 2, council_meetings_per_grid_per_day=0.4
    ),
    "demo": Preset("demo", ("210202", "210203", "210204"), 3, 3, 4, 20_000, 0.08, 0.5, 1.5, 300, 500, 4),
    # Dalian: ~7.5M residents, 544k party members, ~30k party organizations, ~100 streets and towns,
    # ~1,500 communities, thousands of unit grids; a year of cases and 12345 orders before the first drop.
    "city": Preset(
        "city",
        tuple(DALIAN_DISTRICTS),
        10,
        15,
        4,
        7_500_000,
        0.0725,
        0.5,
        1.0,
        4_000,
        10_000,
        4,
        history_days=365,
        unit_branches_per_community=15,
        newcomer_share=0.002,
    ),
}


@dataclass(frozen=True)
class Messiness:
    """How often each quirk appears. Quirks are repaired by ingest; dirty rows must be quarantined."""

    fullwidth_digits: float = 0.05  # party: ID numbers and phones typed with full-width digits
    lowercase_x: float = 0.5  # party: check character written as lower-case x (of IDs ending in X)
    masked_id: float = 0.3  # gov: resident ID numbers masked as 210202********123X
    member_without_phone: float = 0.05  # party: no mobile on file
    grid_code_variant: float = 0.1  # city: grid codes with separators or without leading zeros
    traditional_name: float = 0.03  # gov: resident name typed in traditional characters (杨伟 → 楊偉)
    worker_work_phone: float = 0.2  # city: grid worker registered with a work phone no other system knows
    bad_id_checksum: float = 0.02  # dirty — party: ID number with a wrong check character
    bad_reported_at: float = 0.02  # dirty — city: a case whose report time cannot be read
    grid_merged: float = 0.03  # city: a grid merged into its neighbour, gone from the next snapshots
    late_case_closure: float = 0.05  # city: a closure reaching the extract 1-3 days after it happened
    voided_case: float = 0.02  # city: a case voided (作废) after dispatch, arriving as an ordinary update
    worker_moved: float = 0.05  # city: a grid worker reassigned to another grid of the community
    worker_left: float = 0.03  # city: a grid worker who leaves: gone from the next snapshots
    council_date_style: float = 0.3  # city: a meeting day written 2026/11/3, 2026年11月3日 or 20261103
    council_no_attendees: float = 0.02  # dirty — city: a council meeting recorded without its attendee count
