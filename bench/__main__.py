import os

# Before Great Expectations imports tqdm, which reads this once: no per-metric progress bars in the table.
os.environ.setdefault("TQDM_DISABLE", "1")

from bench.cli import app  # noqa: E402

app()
