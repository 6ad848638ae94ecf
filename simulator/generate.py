"""Generate a consistent city, then each day's drops of the three systems and the ground truth."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from simulator import cases as case_gen
from simulator import drops, kpis, party, people, places
from simulator import quirks as q
from simulator.presets import PRESETS, Messiness, Preset


@dataclass
class World:
    preset: Preset
    start: date
    days: int
    grids: pd.DataFrame
    persons: pd.DataFrame
    orgs: pd.DataFrame
    members: pd.DataFrame
    residents: pd.DataFrame
    workers: pd.DataFrame
    cases: pd.DataFrame
    steps: pd.DataFrame
    orders: pd.DataFrame


def build_world(preset: Preset, start: date, days: int, seed: int, mess: Messiness) -> World:
    rng = np.random.default_rng(seed)
    # Identity quirks draw from their own stream, so turning them up or down leaves the rest of the city as is.
    identity_rng = np.random.default_rng([seed, 1])
    streets, communities, grids = places.build(preset)
    persons = people.build(rng, preset.persons, communities, start, days)
    per_community = persons.groupby("community_code").size()
    grids["population"] = (
        (grids["community_code"].map(per_community) / preset.grids_per_community).round().astype(int)
    )
    grids["households"] = (grids["population"] / 2.6).round().astype(int)
    grids["style"] = 0

    orgs = party.organizations(preset.districts, streets, communities, grids)
    members = party.members(rng, persons, grids, preset.member_rate, start)
    members = members.merge(persons.drop(columns="arrival_day"), on="person_id")
    n = len(members)
    members["style"] = rng.integers(0, 4, n)
    members["fullwidth"] = q.flags(rng, n, mess.fullwidth_digits)
    members["lower_x"] = q.flags(rng, n, mess.lowercase_x) & members["id_number"].str.endswith("X")
    members["no_phone"] = q.flags(rng, n, mess.member_without_phone)
    members["dirty_rule"] = np.where(q.exactly(rng, n, mess.bad_id_checksum), "id_number:valid_id_number", "")

    residents = persons.copy()
    residents.insert(0, "resident_id", [f"JM{i:09d}" for i in range(len(residents))])
    residents["masked"] = q.flags(rng, len(residents), mess.masked_id)
    residents["style"] = rng.integers(0, 4, len(residents))
    residents["traditional"] = q.exactly(identity_rng, len(residents), mess.traditional_name)
    residents["updated_at"] = [
        datetime.combine(start + timedelta(days=int(d)), datetime.min.time()) + timedelta(hours=1)
        for d in residents["arrival_day"]
    ]

    workers = party.grid_workers(rng, persons, grids, preset.part_time_workers_per_grid)
    workers = workers.merge(persons[["person_id", "full_name", "phone"]], on="person_id")
    work_phone = q.exactly(identity_rng, len(workers), mess.worker_work_phone)
    workers["phone"] = np.where(work_phone, q.work_phones(identity_rng, len(workers)), workers["phone"])
    variant = q.flags(rng, len(workers), mess.grid_code_variant)
    workers["style"] = np.where(variant, rng.integers(1, 3, len(workers)), 0)

    cases, steps, orders = case_gen.generate(rng, preset, start, days, grids, persons, workers)
    variant = q.flags(rng, len(cases), mess.grid_code_variant)
    cases["style"] = np.where(variant, rng.integers(1, 3, len(cases)), 0)
    cases["dirty_rule"] = np.where(
        q.exactly(rng, len(cases), mess.bad_reported_at), "reported_at:not_null", ""
    )
    return World(preset, start, days, grids, persons, orgs, members, residents, workers, cases, steps, orders)


def write_day(world: World, day: int, out: Path) -> None:
    when = world.start + timedelta(days=day)
    cutoff = datetime.combine(when + timedelta(days=1), datetime.min.time())
    updated = datetime.combine(world.start, datetime.min.time()) - timedelta(days=30)
    drops.party(
        out / "party" / when.isoformat(),
        world.orgs,
        world.members[world.members["arrival_day"] <= day],
        updated,
    )
    drops.gov(
        out / "gov" / when.isoformat(),
        world.residents[world.residents["arrival_day"] <= day],
        world.orders,
        cutoff,
        world.preset.page_size,
    )
    drops.city(
        out / "city" / when.isoformat(), world.grids, world.workers, world.cases, world.steps, cutoff, updated
    )


def write_truth(world: World, out: Path) -> None:
    """What really is, as of the end of the last simulated day: identities, dirty rows, cases.

    ``person_records.first_day`` is the simulated day (0-based) a record first appears in its system's drops.
    """
    folder = out / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    last = world.days - 1
    cutoff = datetime.combine(world.start + timedelta(days=world.days), datetime.min.time())
    persons = world.persons[world.persons["arrival_day"] <= last]
    persons.drop(columns=["arrival_day"]).to_parquet(folder / "persons.parquet", index=False)

    members = world.members[world.members["arrival_day"] <= last]
    orders = world.orders[world.orders["received_at"] < cutoff]
    records = pd.concat(
        [
            pd.DataFrame(
                {
                    "system": "party",
                    "entity": "members",
                    "record_key": members["member_id"],
                    "person_id": members["person_id"],
                    "dirty_rule": members["dirty_rule"],
                    "first_day": members["arrival_day"],
                }
            ),
            pd.DataFrame(
                {
                    "system": "gov",
                    "entity": "residents",
                    "record_key": world.residents.loc[world.residents["arrival_day"] <= last, "resident_id"],
                    "person_id": persons["person_id"].values,
                    "dirty_rule": "",
                    "first_day": persons["arrival_day"].values,
                }
            ),
            pd.DataFrame(
                {
                    "system": "city",
                    "entity": "grid_workers",
                    "record_key": world.workers["worker_id"],
                    "person_id": world.workers["person_id"],
                    "dirty_rule": "",
                    "first_day": 0,
                }
            ),
            pd.DataFrame(
                {
                    "system": "gov",
                    "entity": "hotline_callers",
                    "record_key": orders["order_no"],
                    "person_id": orders["caller_person_id"],
                    "dirty_rule": "",
                    "first_day": [(t.date() - world.start).days for t in orders["received_at"]],
                }
            ),
        ],
        ignore_index=True,
    )
    records.to_parquet(folder / "person_records.parquet", index=False)

    reported = world.cases[world.cases["reported_at"] < cutoff]
    forwarded = orders["forwarded_case_no"].ne("") & (orders["forwarded_at"] < cutoff)
    unified = pd.concat(
        [
            pd.DataFrame(
                {
                    "case_key": reported["case_no"],
                    "origin_system": "city",
                    "grid_code": reported["grid_code"],
                    "case_origin": reported["case_origin"],
                    "closed": reported["closed_at"] < cutoff,
                    "dirty_rule": reported["dirty_rule"],
                }
            ),
            pd.DataFrame(
                {
                    "case_key": orders.loc[~forwarded, "order_no"],
                    "origin_system": "gov",
                    "grid_code": None,
                    "case_origin": "12345",
                    "closed": orders.loc[~forwarded, "completed_at"] < cutoff,
                    "dirty_rule": "",
                }
            ),
        ],
        ignore_index=True,
    )
    unified.to_parquet(folder / "cases.parquet", index=False)
    world.grids.drop(columns=["style"]).to_parquet(folder / "grids.parquet", index=False)
    kpis.daily(
        world.cases,
        world.steps,
        world.orders,
        world.grids,
        world.workers,
        world.orgs,
        world.start,
        world.days,
    ).to_parquet(folder / "kpis_daily.parquet", index=False)
    summary = {
        "preset": world.preset.name,
        "start": world.start.isoformat(),
        "days": world.days,
        "counts": {
            "party.organizations": len(world.orgs),
            "party.members": len(members),
            "gov.residents": len(persons),
            "city.grids": len(world.grids),
            "city.grid_workers": len(world.workers),
            "city.cases": len(reported),
            "gov.hotline_orders": len(orders),
            "city.case_steps": int((world.steps["occurred_at"] < cutoff).sum()),
        },
        "persons": len(persons),
    }
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))


def generate(
    preset: str,
    out: Path,
    days: int | None = None,
    start: date = date(2026, 11, 1),
    seed: int = 20261101,
    mess: Messiness | None = None,
) -> World:
    chosen = PRESETS[preset]
    days = days or chosen.days
    world = build_world(chosen, start, days, seed, mess or Messiness())
    for day in range(days):
        write_day(world, day, out)
    write_truth(world, out)
    (out / "truth" / "messiness.json").write_text(json.dumps(asdict(mess or Messiness()), indent=2))
    return world
