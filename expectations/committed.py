"""Which accepted Parquet files stand for an entity's nights, according to the manifest (the commit record)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ingest import manifest
from ingest.config import Paths, partition
from ingest.contracts import Contract


def committed_batches(paths: Paths, contract: Contract, load_date: date) -> list[str]:
    """The batches whose accepted rows stand for an entity's day: the latest accepted extract, then the
    readmissions of its quarantined rows. A later extract for the day replaces both."""
    found = manifest.batches(paths.manifest, contract.system, contract.entity, load_date)
    standing = [b.batch_id for b in found if b.status == "accepted"][-1:]
    readmitted = [
        b.batch_id for b in found if b.status == manifest.READMITTED and b.readmitted_from in standing
    ]
    return standing + readmitted


def committed_files(paths: Paths, contract: Contract, quarantined: bool = False) -> dict[date, list[Path]]:
    """Per night with accepted rows, the files of its committed batches; with ``quarantined`` also the
    files of their quarantined rows (together: every row the source delivered in them)."""
    found = {}
    roots = (paths.accepted, paths.quarantine) if quarantined else (paths.accepted,)
    for folder in sorted((paths.accepted / contract.system / contract.entity).glob("load_date=*")):
        day = date.fromisoformat(folder.name.removeprefix("load_date="))
        files = [
            partition(root, contract, day) / f"{b}.parquet"
            for b in committed_batches(paths, contract, day)
            for root in roots
        ]
        if files := [f for f in files if f.exists()]:
            found[day] = files
    return found
