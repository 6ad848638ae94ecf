"""Progress of a generation, one bar per stage: silent by default, rich bars from the command line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def bars() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )


class Stages:
    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress

    @contextmanager
    def stage(self, name: str, total: int) -> Iterator[Callable[[int], None]]:
        """A bar of ``total`` steps while the block runs; the block advances it with the function it gets."""
        if self.progress is None:
            yield lambda _: None
            return
        task = self.progress.add_task(name, total=max(total, 1))
        yield lambda n: self.progress.advance(task, n)
        self.progress.update(task, completed=max(total, 1))
