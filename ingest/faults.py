"""Named crash points, so the fault tests can kill a night exactly where a real crash would hurt most.

With ``GRIDFUSION_FAULT_AT=<point>`` in its environment, a process sends itself SIGKILL when it reaches that
point: nothing gets to clean up, as when a worker is OOM-killed or its machine dies. Unset, ``reached``
does nothing.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "GRIDFUSION_FAULT_AT"
POINTS = (
    "parquet.mid_file",  # a Parquet file's rows are written, its footer is not (the first one of the run)
    "validate.mid_suite",  # GX has evaluated a batch; nothing of its outcome is recorded or routed yet
    "validate.before_commit",  # accepted and quarantined rows written; the manifest still says ``landed``
    "dbt.mid_model",  # ``dbt build`` has built its first model on the candidate, the rest are to come
    "publish.before_swap",  # the new warehouse and analytics files are staged beside the published ones
)


def reached(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)
