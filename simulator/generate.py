"""Generate a consistent city, then each day's drops of the three systems and the ground truth."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from simulator import (
    callbacks,
    council,
    drops,
    kpis,
    lifecycle,
    org_changes,
    party,
    party_activity,
    party_extracts,
    people,
    places,
    services,
)
from simulator import cases as case_gen
from simulator import quirks as q
from simulator.presets import PRESETS, Messiness, Preset
from simulator.progress import Stages
from simulator.text import as_str, padded, pick


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
    steps: pd.DataFrame  # by case (``case_index`` is the case's row in ``cases``), then ``step_seq``
    orders: pd.DataFrame
    party_activity: party_activity.PartyActivity
    services: services.Services  # resident units, service items and applications
    meetings: pd.DataFrame  # grid council meetings

    @property
    def listed_at(self) -> datetime:
        """The change time the snapshot systems carry for a record that has not changed since the start."""
        return datetime.combine(self.start, datetime.min.time()) - timedelta(days=30)

    def cutoff(self, day: int) -> np.datetime64:
        """The end of simulated day ``day`` (0-based)."""
        return np.datetime64(self.start + timedelta(days=day + 1), "ms")

    def day_start(self, day: int) -> np.datetime64:
        """Where a drop's changes begin: the day itself, and for the first drop the whole history before it."""
        return self.cutoff(day) - np.timedelta64(1 + (0 if day else self.preset.history_days), "D")


def build_world(preset: Preset, start: date, days: int, seed: int, mess: Messiness, stages: Stages) -> World:
    rng = np.random.default_rng(seed)
    # Identity quirks draw from their own stream, so turning them up or down leaves the rest of the city as is.
    identity_rng = np.random.default_rng([seed, 1])
    # So do the dangling references, which pick among the rows that are otherwise clean.
    reference_rng = np.random.default_rng([seed, 2])
    # Likewise each kind of change to records after they exist: one kind turned up leaves the others as they are.
    merges, moves, voids, delays, meetings_rng, org_rng, forwarded_voids = (
        np.random.default_rng([seed, 2, k]) for k in range(7)
    )
    repeats = np.random.default_rng([seed, 6])  # rows an export writes twice
    with stages.stage("places", 1):
        streets, communities, grids = places.build(preset)
        grids = lifecycle.merge_grids(merges, grids, start, days, mess.grid_merged)
    with stages.stage("persons", preset.persons):
        persons = people.build(rng, preset.persons, communities, days, preset.newcomer_share)
    per_community = persons.groupby("community_code").size()
    grids["population"] = (
        (grids["community_code"].map(per_community).fillna(0) / preset.grids_per_community)
        .round()
        .astype(int)
    )
    grids["households"] = (grids["population"] / 2.6).round().astype(int)
    grids["style"] = 0

    with stages.stage("party organizations and members", len(persons)):
        orgs = party.organizations(
            preset.districts, streets, communities, grids, preset.unit_branches_per_community
        )
        orgs = org_changes.change(org_rng, orgs, start, days, mess)
        members = party.members(rng, persons, preset, start)
        n = len(members)
        members["style"] = rng.integers(0, 4, n)
        members["fullwidth"] = q.flags(rng, n, mess.fullwidth_digits)
        members["lower_x"] = (
            q.flags(rng, n, mess.lowercase_x) & members["id_number"].str.endswith("X").to_numpy()
        )
        members["no_phone"] = q.flags(rng, n, mess.member_without_phone)
        members["dirty_rule"] = np.where(
            q.exactly(rng, n, mess.bad_id_checksum), "id_number:valid_id_number", ""
        )
        members["dirty_rule"] = _dangling(reference_rng, members["dirty_rule"], mess, "org_code:references")
        members["repeated"] = q.exactly(repeats, n, mess.duplicate_row)

    with stages.stage("party transfers, 双报到 and volunteer service", len(members)):
        # their own stream, so the rest of the city is the same with or without them
        activity = party_activity.build(
            np.random.default_rng([seed, 4]), persons, members, orgs, preset, mess, start, days
        )

    residents = persons.copy(deep=False)  # the same columns (copy on write), and the gov system's own
    residents.insert(0, "resident_id", padded(np.arange(len(residents)), 9, "JM").to_pandas())
    residents["masked"] = q.flags(rng, len(residents), mess.masked_id)
    residents["style"] = rng.integers(0, 4, len(residents)).astype(np.int8)
    residents["traditional"] = q.exactly(identity_rng, len(residents), mess.traditional_name)
    written = residents["full_name"].copy()
    written[residents["traditional"]] = as_str(q.traditional(written[residents["traditional"]])).to_numpy()
    residents["written_name"] = written
    residents["updated_at"] = (
        np.datetime64(start, "s")
        + residents["arrival_day"].to_numpy().astype("timedelta64[D]")
        + np.timedelta64(1, "h")
    )

    with stages.stage("grid workers", len(grids)):
        workers = party.grid_workers(rng, persons, grids, preset.part_time_workers_per_grid)
        workers = workers.merge(persons[["person_id", "full_name", "phone"]], on="person_id")
        work_phone = q.exactly(identity_rng, len(workers), mess.worker_work_phone)
        workers["phone"] = as_str(
            pick(work_phone, q.work_phones(identity_rng, len(workers)), workers["phone"])
        )
        variant = q.flags(rng, len(workers), mess.grid_code_variant)
        workers["style"] = np.where(variant, rng.integers(1, 3, len(workers)), 0)
        workers = lifecycle.move_workers(
            moves, workers, grids, start, days, mess.worker_moved, mess.worker_left
        )
        staying = np.flatnonzero(workers["left_at"].isna().to_numpy())  # so every snapshot repeats them
        workers["repeated"] = False
        workers.loc[staying[q.exactly(repeats, len(staying), mess.duplicate_row)], "repeated"] = True

    with stages.stage("cases, steps and 12345 orders", 1):
        cases, steps, orders = case_gen.generate(rng, preset, start, days, grids, persons, workers)
        cases = lifecycle.into_merged_grids(cases, grids, "reported_at")
        variant = q.flags(rng, len(cases), mess.grid_code_variant)
        cases["style"] = np.where(variant, rng.integers(1, 3, len(cases)), 0)
        cases["dirty_rule"] = np.where(
            q.exactly(rng, len(cases), mess.bad_reported_at), "reported_at:not_null", ""
        )
        cases["dirty_rule"] = _dangling(reference_rng, cases["dirty_rule"], mess, "grid_code:references")
        cases, steps = lifecycle.void_cases(voids, cases, steps, mess.voided_case)
        cases = lifecycle.delay_closures(delays, cases, start, days, mess.late_case_closure)
        cases, steps, orders = lifecycle.void_forwarded_cases(
            forwarded_voids, cases, steps, orders, mess.voided_forwarded_case
        )
        callbacks.add(np.random.default_rng([seed, 3]), orders)  # own stream: the rest stays as it was
    with stages.stage("grid council meetings", 1):
        meetings = council.generate(meetings_rng, preset, start, days, grids, mess)
        meetings = lifecycle.into_merged_grids(meetings, grids, "recorded_at")
    with stages.stage("resident units, service items and applications", 1):
        # their own stream, so the rest of the city stays as it was
        service_side = services.build(
            np.random.default_rng([seed, 5]), preset, start, days, communities, residents, mess
        )
        orgs["credit_code"], orgs["credit_code_style"] = services.unit_organization_codes(
            np.random.default_rng([seed, 7]), orgs, service_side.units, preset.unit_credit_code_share, mess
        )
    return World(
        preset,
        start,
        days,
        grids,
        persons,
        orgs,
        members,
        residents,
        workers,
        cases,
        steps,
        orders,
        activity,
        service_side,
        meetings,
    )


def _dangling(rng: np.random.Generator, dirty_rule, mess: Messiness, rule: str) -> np.ndarray:
    """``dirty_rule`` with a share of the clean rows given ``rule``: their reference names nothing."""
    rules = np.asarray(dirty_rule, dtype=object)
    clean = np.flatnonzero(rules == "")
    rules[clean[q.exactly(rng, len(clean), mess.dangling_reference)]] = rule
    return rules


def write_day(world: World, day: int, out: Path, stages: Stages | None = None) -> None:
    stages = stages or Stages()
    when = (world.start + timedelta(days=day)).isoformat()
    cutoff, day_start = world.cutoff(day), world.day_start(day)
    updated = world.listed_at
    org_code, member_updated_at = party_activity.organization_on(
        world.members, world.party_activity.transfers, cutoff, np.datetime64(updated, "s")
    )
    members = world.members.assign(org_code=org_code, updated_at=member_updated_at)
    members = members[members["arrival_day"] <= day]
    with stages.stage(f"{when} party", len(world.orgs) + len(members)) as advance:
        orgs = org_changes.organizations_on(world.orgs, cutoff, updated)
        drops.party(out / "party" / when, orgs, members, advance)
        since = None if day == 0 else cutoff - np.timedelta64(1, "D")
        advance(party_extracts.write(out / "party" / when, world.party_activity, since, cutoff))
    residents = np.flatnonzero(world.residents["arrival_day"].to_numpy() <= day)
    with stages.stage(f"{when} gov", len(residents) + len(world.orders)) as advance:
        drops.gov(
            out / "gov" / when,
            world.residents,
            residents,
            world.orders,
            cutoff,
            day_start,
            world.preset.page_size,
            advance,
        )
        services.write_day(world.services, out / "gov" / when, cutoff, day_start, world.preset.page_size)
    delivered = lifecycle.step_delivered_at(world.cases, world.steps)
    changed = (delivered >= day_start) & (delivered < cutoff)
    with stages.stage(f"{when} city", int(world.steps.loc[changed, "case_index"].nunique())) as advance:
        drops.city(
            out / "city" / when,
            lifecycle.grids_on(world.grids, cutoff, updated),
            lifecycle.workers_on(world.workers, cutoff, updated),
            world.cases,
            world.steps,
            delivered,
            cutoff,
            day_start,
            advance,
        )
        council.write(out / "city" / when, world.meetings, cutoff, day_start)


def _arrived(frame: pd.DataFrame, day: int) -> pd.DataFrame:
    """Rows that arrived by ``day``; the frame itself when that is all of them (no copy of millions of rows)."""
    arrived = frame["arrival_day"].to_numpy() <= day
    return frame if arrived.all() else frame[arrived]


def _repeated_rows(members: pd.DataFrame, workers: pd.DataFrame) -> pd.DataFrame:
    """The snapshot rows every drop from ``first_day`` on writes twice, byte for byte (one extra copy)."""
    m, w = members[members["repeated"]], workers[workers["repeated"]]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "system": "party",
                    "entity": "members",
                    "record_key": m["member_id"],
                    "first_day": m["arrival_day"],
                }
            ),
            pd.DataFrame(
                {"system": "city", "entity": "grid_workers", "record_key": w["worker_id"], "first_day": 0}
            ),
        ],
        ignore_index=True,
    )


def _before(frame: pd.DataFrame, column: str, cutoff: np.datetime64) -> pd.DataFrame:
    """The rows whose ``column`` is before ``cutoff``; the frame itself when that is all of them."""
    kept = frame[column].to_numpy() < cutoff
    return frame if kept.all() else frame[kept]


def _person_records(members, residents, workers, orders, service, applicants, start: date) -> pd.DataFrame:
    """Which real person each record of the systems is, the day it first appears, and its dirty rule."""
    start = np.datetime64(start, "D")
    return pd.concat(
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
                    "record_key": residents["resident_id"],
                    "person_id": residents["person_id"],
                    "dirty_rule": "",
                    "first_day": residents["arrival_day"],
                }
            ),
            pd.DataFrame(
                {
                    "system": "city",
                    "entity": "grid_workers",
                    "record_key": workers["worker_id"],
                    "person_id": workers["person_id"],
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
                    "first_day": (orders["received_at"].to_numpy().astype("datetime64[D]") - start).astype(
                        int
                    ),
                }
            ),
            party_activity.volunteer_records(service),
            applicants,
        ],
        ignore_index=True,
    )


def _unified_cases(reported: pd.DataFrame, orders: pd.DataFrame, cutoff: np.datetime64) -> pd.DataFrame:
    """Every case as the warehouse unifies it: the grid cases, and the 12345 orders not forwarded to a grid."""
    closure_known = lifecycle.closure_delivered_at(reported) < cutoff
    voided = reported["voided_at"] < cutoff
    forwarded = orders["forwarded_case_no"].ne("") & (orders["forwarded_at"] < cutoff)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "case_key": reported["case_no"],
                    "origin_system": "city",
                    "grid_code": reported["grid_code"],
                    "case_origin": reported["case_origin"],
                    "closed": closure_known,
                    "closed_at": reported["closed_at"].where(closure_known),
                    # the day the closure reached the extract: after ``closed_at`` for a late one
                    "closure_delivered_at": lifecycle.closure_delivered_at(reported),
                    "is_deleted": voided,
                    "deleted_at": reported["voided_at"].where(voided),
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
                    "is_deleted": False,
                    "dirty_rule": "",
                }
            ),
        ],
        ignore_index=True,
    )


def write_truth(world: World, out: Path) -> None:
    """What really is, as of the end of the last simulated day: identities, dirty rows, cases.

    ``person_records.first_day`` is the simulated day (0-based) a record first appears in its system's drops.
    """
    folder = out / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    last = world.days - 1
    cutoff = world.cutoff(last)
    persons = _arrived(world.persons, last)
    persons.drop(columns=["arrival_day"]).to_parquet(folder / "persons.parquet", index=False)

    members = _arrived(world.members, last)
    residents = _arrived(world.residents, last)
    activity = party_activity.reached(world.party_activity, cutoff, world.start)
    workers = lifecycle.workers_on(world.workers, cutoff, world.listed_at)  # those who have not left
    orders = _before(world.orders, "received_at", cutoff)
    applicants = services.applicant_records(world.services, world.start, cutoff)
    _person_records(
        members, residents, workers, orders, activity.service, applicants, world.start
    ).to_parquet(folder / "person_records.parquet", index=False)
    _repeated_rows(members, workers).to_parquet(folder / "duplicate_rows.parquet", index=False)
    current_org, _ = party_activity.organization_on(
        world.members, activity.transfers, cutoff, np.datetime64(world.listed_at, "s")
    )
    party_counts = party_activity.write_truth(
        activity,
        members,
        current_org[members.index.to_numpy()],
        world.orgs,
        world.grids,
        world.start,
        world.days,
        folder,
    )

    reported = _before(world.cases, "reported_at", cutoff)
    _unified_cases(reported, orders, cutoff).to_parquet(folder / "cases.parquet", index=False)
    org_changes.changes(world.orgs, cutoff).to_parquet(folder / "organization_changes.parquet", index=False)
    world.grids.drop(columns=["style"]).to_parquet(folder / "grids.parquet", index=False)
    # the organizations with the clean credit code of a unit's organization ("" where none is recorded)
    world.orgs.drop(columns=["credit_code_style"]).to_parquet(folder / "organizations.parquet", index=False)
    assignments = lifecycle.worker_assignments(world.workers, world.listed_at)
    assignments.to_parquet(folder / "worker_assignments.parquet", index=False)
    meetings = world.meetings[world.meetings["recorded_at"] < cutoff]
    meetings.drop(columns=["date_style", "code_style"]).to_parquet(
        folder / "council_meetings.parquet", index=False
    )
    kpis.daily(
        world.cases,
        world.steps,
        world.orders,
        world.grids,
        assignments,
        world.orgs,
        meetings,
        world.start,
        world.days,
    ).to_parquet(folder / "kpis_daily.parquet", index=False)
    service_counts = services.write_truth(world.services, world.start, cutoff, folder)
    summary = {
        "preset": world.preset.name,
        "start": world.start.isoformat(),
        "days": world.days,
        "counts": {
            "party.organizations": len(org_changes.organizations_on(world.orgs, cutoff, world.listed_at)),
            "party.members": len(members),
            "gov.residents": len(persons),
            "city.grids": int((~(world.grids["merged_at"] < cutoff)).sum()),
            "city.grid_workers": len(workers),
            "city.cases": len(reported),
            "gov.hotline_orders": len(orders),
            "city.case_steps": int((lifecycle.step_delivered_at(world.cases, world.steps) < cutoff).sum()),
            "city.council_meetings": len(meetings),
            **party_counts,
            **service_counts,
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
    fraction: float = 1.0,
    stages: Stages | None = None,
) -> World:
    """Simulate ``preset`` (scaled to ``fraction`` of its persons, grids and cases) and write its drops."""
    chosen = PRESETS[preset].scaled(fraction)
    days = days or chosen.days
    stages = stages or Stages()
    world = build_world(chosen, start, days, seed, mess or Messiness(), stages)
    for day in range(days):
        write_day(world, day, out, stages)
    write_truth(world, out)
    (out / "truth" / "messiness.json").write_text(json.dumps(asdict(mess or Messiness()), indent=2))
    return world
