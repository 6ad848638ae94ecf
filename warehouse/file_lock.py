"""Replacing a DuckDB file that another process holds open for writing would throw that process's writes
away without a word, so the night waits a while for the writer to let go, then fails naming it.

DuckDB locks a file for the whole life of a read-write connection and refuses a read-only one meanwhile;
readers share the file with each other, so open read-only connections never block the night.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

WAIT_ENV = "GRIDFUSION_LOCK_WAIT_SECONDS"
DEFAULT_WAIT_S = 120.0
POLL_S = 1.0


class DatabaseLocked(RuntimeError):
    """A DuckDB file the night must replace is held open for writing by another process."""


def wait_until_free(path: Path) -> None:
    """Return once no process holds ``path`` open for writing (at once if there is no file)."""
    deadline = time.monotonic() + float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_S))
    while True:
        try:
            if path.exists():
                duckdb.connect(str(path), read_only=True).close()
            return
        except duckdb.Error as error:
            if "could not set lock" not in str(error).lower():
                return  # unreadable (a killed build's candidate, say) but held by nobody: safe to replace
            if time.monotonic() >= deadline:
                raise DatabaseLocked(
                    f"{path} is held open for writing by another process; it was left untouched. Close that "
                    f"connection (open the warehouse with read_only=True) and rerun the night. DuckDB: {error}"
                ) from None
        time.sleep(POLL_S)
