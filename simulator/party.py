"""The party-building network: organizations on the division/grid hierarchy, and their members."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd


def organizations(
    districts: tuple[str, ...], streets: pd.DataFrame, communities: pd.DataFrame, grids: pd.DataFrame
) -> pd.DataFrame:
    """District committee → street working committee (大工委) → community committee (大党委) → grid branches."""
    rows = [
        {
            "org_code": f"D{d}",
            "org_name": f"中共大连市{d}区委",
            "org_type": "党委",
            "parent_org_code": "",
            "division_code": f"{d}000000",
            "grid_code": "",
        }
        for d in districts
    ]
    rows += [
        {
            "org_code": f"S{s.street_code}",
            "org_name": f"中共{s.street_name}工作委员会",
            "org_type": "党工委",
            "parent_org_code": f"D{s.district_code}",
            "division_code": f"{s.street_code}000",
            "grid_code": "",
        }
        for s in streets.itertuples()
    ]
    rows += [
        {
            "org_code": f"C{c.community_code}",
            "org_name": f"中共{c.community_name}委员会",
            "org_type": "党委",
            "parent_org_code": f"S{c.street_code}",
            "division_code": c.community_code,
            "grid_code": "",
        }
        for c in communities.itertuples()
    ]
    rows += [
        {
            "org_code": f"G{g.grid_code}",
            "org_name": f"{g.grid_name}党支部",
            "org_type": "党支部",
            "parent_org_code": f"C{g.community_code}",
            "division_code": g.community_code,
            "grid_code": g.grid_code,
        }
        for g in grids.itertuples()
    ]
    orgs = pd.DataFrame(rows)
    orgs["founded_on"] = date(2019, 7, 1)
    return orgs


def members(rng: np.random.Generator, persons: pd.DataFrame, grids: pd.DataFrame, rate: float, start: date):
    """Adults join at ``rate``; each belongs to a grid branch in their own community, some to the community."""
    adult = persons["birth_date"].map(lambda b: (start - b).days >= 18 * 365)
    chosen = persons[adult & (rng.random(len(persons)) < rate)].reset_index(drop=True)
    grids_by_community = grids.groupby("community_code")["grid_code"].apply(list)
    orgs = []
    for community in chosen["community_code"]:
        if rng.random() < 0.2:
            orgs.append(f"C{community}")
        else:
            options = grids_by_community[community]
            orgs.append(f"G{options[rng.integers(0, len(options))]}")
    age = chosen["birth_date"].map(lambda b: (start - b).days / 365.25)
    joined = [
        min(b + timedelta(days=int(365 * (20 + rng.integers(0, 20)))), start - timedelta(days=30))
        for b in chosen["birth_date"]
    ]
    return pd.DataFrame(
        {
            "member_id": [f"DY{i:08d}" for i in range(len(chosen))],
            "person_id": chosen["person_id"],
            "joined_on": joined,
            "member_category": np.where(rng.random(len(chosen)) < 0.95, "正式党员", "预备党员"),
            "employment_status": np.where(age < 60, "在职", "离退休"),
            "ethnicity": np.where(chosen["full_name"].str.contains("·"), "维吾尔族", "汉族"),
            "org_code": orgs,
            "arrival_day": chosen["arrival_day"],
        }
    )


def grid_workers(rng: np.random.Generator, persons: pd.DataFrame, grids: pd.DataFrame, part_time_rate: float):
    """One full-time (专职) worker per grid, and part-time (兼职) ones, all living in the grid's community."""
    rows, used = [], set()
    for g in grids.itertuples():
        local = persons[(persons["community_code"] == g.community_code) & (persons["arrival_day"] == 0)]
        count = 1 + int(rng.random() < part_time_rate)
        picks = [p for p in local["person_id"].sample(frac=1, random_state=rng) if p not in used][:count]
        for n, person_id in enumerate(picks):
            used.add(person_id)
            rows.append(
                {
                    "grid_code": g.grid_code,
                    "person_id": person_id,
                    "worker_type": "专职" if n == 0 else "兼职",
                }
            )
    workers = pd.DataFrame(rows)
    workers.insert(0, "worker_id", [f"WG{i:06d}" for i in range(len(workers))])
    return workers
