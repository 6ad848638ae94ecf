"""Peak resident memory of this process and its children, sampled with psutil.

The whole night runs in this one process (dbt through ``dbtRunner``, DuckDB and Great Expectations are
in-process libraries), so the tree is normally just us; children are counted in case a step spawns any.
``ru_maxrss`` of the process is kept beside the samples as an exact lifetime high-water mark.
"""

from __future__ import annotations

import contextlib
import resource
import threading
import time

import psutil


def tree_rss(process: psutil.Process, children: list[psutil.Process] | None = None) -> int:
    """RSS of ``process`` plus ``children`` (by default, looked up now: a scan of every process)."""
    total = process.memory_info().rss
    for child in process.children(recursive=True) if children is None else children:
        with contextlib.suppress(psutil.NoSuchProcess):  # a child that ended meanwhile
            total += child.memory_info().rss
    return total


class PeakMemory:
    """Samples the tree's RSS every ``interval`` seconds; ``reset()`` starts a new stage's peak.

    Finding the children scans all of ``/proc``, which sampled every 20 ms cost the bench a tenth of its CPU
    time (py-spy), charged to the stages it measures; so the children are looked up once a second.
    """

    def __init__(self, interval: float = 0.02, children_every: float = 1.0):
        self.interval = interval
        self.children_every = children_every
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        children, looked_up = [], 0.0
        while not self._stop.wait(self.interval):
            if time.monotonic() - looked_up >= self.children_every:
                with contextlib.suppress(psutil.NoSuchProcess):
                    children = self.process.children(recursive=True)
                looked_up = time.monotonic()
            self.peak = max(self.peak, tree_rss(self.process, children))

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
