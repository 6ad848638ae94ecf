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
    transfers_per_member_year: float = 0.05  # 组织关系转接 per member and year
    recent_transfer_share: float = 0.0  # transfers drawn into the simulated days on top of the yearly rate
    internal_transfer_share: float = 0.5  # transfers to another branch of the community the member lives in
    dual_registration_share: float = 0.7  # in-service members registered with their community (双报到)
    unit_registration_share: float = 0.9  # resident units' party organizations registered with theirs
    recent_registration_share: float = 0.05  # registrations made during the simulated days
    member_volunteer_share: float = 0.3  # members who serve as volunteers
    resident_volunteer_share: float = 0.02  # adult residents who are not members and serve as volunteers
    volunteer_activities_per_community_day: float = 1.0
    units_per_community: int = 3  # resident units (驻区单位) registered in each community
    unit_credit_code_share: float = (
        0.8  # unit party organizations whose unit's credit code the party system has
    )
    service_items: int = 30  # items of the service-item list (a city has a few thousand)
    service_applications_per_day: int = 20
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
            service_applications_per_day=max(1, round(self.service_applications_per_day * fraction)),
        )


PRESETS: dict[str, Preset] = {
    "tiny": Preset(
        "tiny",
        ("210202",),
        2,
        2,
        3,
        600,
        0.12,
        0.5,
        2.0,
        15,
        100,
        2,
        unit_branches_per_community=1,
        transfers_per_member_year=0.3,
        recent_transfer_share=0.3,
        recent_registration_share=0.2,
        council_meetings_per_grid_per_day=0.4,
    ),
    "demo": Preset(
        "demo",
        ("210202", "210203", "210204"),
        3,
        3,
        4,
        20_000,
        0.08,
        0.5,
        1.5,
        300,
        500,
        4,
        units_per_community=8,
        service_items=200,
        service_applications_per_day=400,
    ),
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
        units_per_community=20,
        service_items=3_000,
        service_applications_per_day=20_000,
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
    late_transfer: float = 0.1  # party: a transfer recorded 1-3 days after it took effect
    late_service: float = 0.1  # party: volunteer service recorded 1-3 days after the activity
    bad_transfer_date: float = 0.02  # dirty — party: a transfer whose effective date cannot be read
    bad_registration_date: float = 0.02  # dirty — party: a 双报到 registration whose date cannot be read
    bad_service_hours: float = 0.02  # dirty — party: volunteer hours written in words (两小时)
    # dirty — a code that names a record its system does not have: party: a member filed under an unknown
    # organization; city: a case in an unknown grid (both stay unknown, so they are quarantined every night)
    dangling_reference: float = 0.02
    credit_code_lowercase: float = 0.05  # gov: a unit's credit code typed in lower case
    credit_code_fullwidth: float = 0.05  # gov: a unit's credit code typed with full-width characters
    duplicate_unit: float = 0.05  # gov: a resident unit registered twice (resolved by its credit code)
    xlsx_date_as_text: float = 0.2  # gov: the item list's update time typed as text, not a date cell
    bad_credit_code: float = 0.02  # dirty — gov: a unit's credit code with a wrong check character
    item_without_promise: float = 0.03  # dirty — gov: a service item whose promised days are blank
    unknown_channel: float = 0.01  # dirty — gov: an application through a channel the contract lacks
    grid_merged: float = 0.03  # city: a grid merged into its neighbour, gone from the next snapshots
    late_case_closure: float = 0.05  # city: a closure reaching the extract 1-3 days after it happened
    voided_case: float = 0.02  # city: a case voided (作废) after dispatch, arriving as an ordinary update
    # city and gov: a case 12345 forwarded (its order 已转办) voided by the grid; the order never completes
    voided_forwarded_case: float = 0.02
    worker_moved: float = 0.05  # city: a grid worker reassigned to another grid of the community
    worker_left: float = 0.03  # city: a grid worker who leaves: gone from the next snapshots
    council_date_style: float = 0.3  # city: a meeting day written 2026/11/3, 2026年11月3日 or 20261103
    # party members, city grid workers: a row the export writes twice, byte for byte, in the same snapshot
    duplicate_row: float = 0.002
    council_no_attendees: float = 0.02  # dirty — city: a council meeting recorded without its attendee count
    organization_renamed: float = 0.05  # party: a branch renamed and raised to a general branch (党总支)
    organization_reparented: float = 0.2  # party: a resident unit's branch put under its street's committee
    organization_dissolved: float = (
        0.2  # party: a resident unit's branch dissolved, gone from the next snapshots
    )
    grid_branch_dissolved: float = 0.02  # party: a grid's party branch dissolved, its grid no longer covered
    # party: a community's committee (社区大党委) dissolved, its branches put under the street's working committee
    community_committee_dissolved: float = 0.01
