"""Put fetched extracts into the drop layout, as if the source system had dropped them as files.

Pages or files are staged in a hidden folder beside the day's folder while they arrive, and renamed into
``drops/<system>/<date>/`` only once complete. A fetch that fails part way leaves the day's folder exactly
as it was, so landing never sees part of an extract.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def page_name(entity: str, number: int) -> str:
    return f"{entity}_page_{number:04d}.json"


def deliver_pages(folder: Path, entity: str, pages: Iterable[bytes]) -> list[Path]:
    """Write the pages (in order, page 1 first) of one entity into ``folder``; replaces an earlier delivery."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}-{entity}-") as staging:
        names = []
        for number, body in enumerate(pages, start=1):
            names.append(page_name(entity, number))
            (Path(staging) / names[-1]).write_bytes(body)
        folder.mkdir(exist_ok=True)
        # An earlier delivery with more pages must not leave its tail behind.
        for stale in folder.glob(f"{entity}_page_*.json"):
            if stale.name not in names:
                stale.unlink()
        for name in names:
            os.replace(Path(staging) / name, folder / name)
    return [folder / name for name in names]


@contextmanager
def delivering(folder: Path, name: str, replaces: str) -> Iterator[BinaryIO]:
    """Write one extract file; it appears as ``folder/name`` only if the block completes.

    Files in ``folder`` matching the glob ``replaces`` (an earlier delivery of the same extract) are removed.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f".{folder.name}-{name}-") as staging:
        with open(Path(staging) / name, "wb") as out:
            yield out
        folder.mkdir(exist_ok=True)
        for stale in folder.glob(replaces):
            if stale.name != name:
                stale.unlink()
        os.replace(Path(staging) / name, folder / name)
