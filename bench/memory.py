"""Peak resident memory of this process and its children, sampled with psutil.

The whole night runs in this one process (dbt through ``dbtRunner``, DuckDB and Great Expectations are
in-process libraries), so the tree is normally just us; children are counted in case a step spawns any.
``ru_maxrss`` of the process is kept beside the samples as an exact lifetime high-water mark.
"""

from __future__ import annotations

import contextlib
import resource
import threading

import psutil


def tree_rss(process: psutil.Process) -> int:
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):  # a child that ended meanwhile
            total += child.memory_info().rss
    return total


class PeakMemory:
    """Samples the tree's RSS every ``interval`` seconds; ``reset()`` starts a new stage's peak."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss(self.process))

    def reset(self) -> None:
        self.peak = tree_rss(self.process)

    def stage_peak(self) -> int:
        """The peak since the last ``reset()``, including the present moment."""
        return max(self.peak, tree_rss(self.process))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def lifetime_max_rss() -> int:
    """The process's own high-water mark in bytes (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
