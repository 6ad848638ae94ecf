"""A self-contained local Airflow for gridfusion: metadata DB, logs and config under the gridfusion home.

``make airflow`` runs ``airflow standalone`` (api-server, scheduler, dag-processor, triggerer) on the
project's DAGs and prints the UI address and login; ``airflow_env`` is also what the demo and the tests use
to run ``airflow dags test``. ``--backfill FIRST LAST`` queues a range of nights for its scheduler.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from ingest.config import REPO_ROOT, Paths
from warehouse.backfill import NIGHTLY_DAG, backfill_command, pool_command

ADMIN = "admin"
PRELOADED_LIBRARIES = "airflow.sdk,pandas,pyarrow.parquet,duckdb,great_expectations,dbt.cli.main"
# The metadata DB is one SQLite file that the scheduler, the dag-processor and a CLI command (a backfill)
# write at once; each waits up to this long for another's write lock, not SQLite's default 5 s, which a
# busy machine's scheduler outlasted ("database is locked").
SQLITE_CONNECT_ARGS = {"timeout": 60}
LOCKED_ATTEMPTS, LOCKED_RETRY_SECONDS = 3, 5
# How a command that failed on the lock ends; a write that only warns (the CLI's audit log) reads
# "Failed to log action (sqlite3.OperationalError) database is locked".
LOCK_REFUSED = "OperationalError: (sqlite3.OperationalError) database is locked"


# Headless Chromium as a root process on a machine with no network: no sandbox, no GPU, no calls home.
CHROMIUM_HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def airflow_env(paths: Paths, port: int = 8080) -> dict[str, str]:
    home = paths.home / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "GRIDFUSION_HOME": str(paths.home),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS": "warehouse.local_airflow.SQLITE_CONNECT_ARGS",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # one task per core: tasks are CPU-bound (pandas, GX, dbt), and more at once only thrash
        "AIRFLOW__CORE__PARALLELISM": os.environ.get("AIRFLOW__CORE__PARALLELISM", str(os.cpu_count() or 2)),
        # Task processes fork from LocalExecutor workers; let those inherit the libraries every task would
        # otherwise import anew (Great Expectations and dbt take seconds each).
        "AIRFLOW__SCHEDULER__MP_START_METHOD": "forkserver",
        "AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD": PRELOADED_LIBRARIES,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "NO_PROXY": "*",
        "GX_ANALYTICS_ENABLED": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def airflow(args: list[str], paths: Paths, log: Path) -> int:
    """Run one airflow CLI command against the local setup, appending its output to ``log``."""
    with log.open("a") as out:
        return subprocess.run(
            [airflow_bin(), *args], env=airflow_env(paths), stdout=out, stderr=subprocess.STDOUT
        ).returncode


def prepare(paths: Paths, log: Path) -> None:
    """Create the metadata DB and the ``duckdb_writer`` pool the nightly DAG's warehouse tasks wait on."""
    for args in (["db", "migrate"], pool_command()):
        checked_airflow(args, paths, log)


def admin_password(paths: Paths) -> str:
    """The password simple auth manager generated for the admin user on first start."""
    generated = paths.home / "airflow" / "simple_auth_manager_passwords.json.generated"
    return json.loads(generated.read_text())[ADMIN]


def start(paths: Paths, port: int, log: Path, open_access: bool = False) -> subprocess.Popen:
    """Start ``airflow standalone`` in its own process group (stop it with ``os.killpg``).

    ``open_access`` makes everyone an admin without a login: only for taking documentation screenshots.
    """
    env = airflow_env(paths, port)
    if open_access:
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "True"
    out = log.open("a")
    return subprocess.Popen(
        [airflow_bin(), "standalone"], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    """Stop ``airflow standalone`` and whatever it started: task processes run in process groups of their
    own, so everything left in its session is killed once it exited."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(60)
    finally:
        for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                if os.getsid(pid) == process.pid:
                    os.kill(pid, signal.SIGKILL)


def screenshot(paths: Paths, target: Path, port: int = 18080, page: str = "/dags/gridfusion_nightly") -> Path:
    """Bring Airflow up over ``paths``, open ``page`` in headless Chromium and save it as PNG."""
    log = paths.home / "logs" / "airflow-screenshot.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = start(paths, port, log, open_access=True)
    try:
        for _ in range(180):
            try:
                if (
                    httpx.get(
                        f"http://localhost:{port}/api/v2/dags/gridfusion_nightly", timeout=2
                    ).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(2)
        subprocess.run(
            [
                "chromium",
                *CHROMIUM_HEADLESS,
                "--hide-scrollbars",
                "--window-size=1440,900",
                "--virtual-time-budget=20000",
                f"--user-data-dir={paths.home / 'chromium-profile'}",
                f"--screenshot={target}",
                f"http://localhost:{port}{page}",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        stop(process)
    return target


def main(port: int = 8080) -> None:
    paths = Paths.from_env()
    log = paths.home / "logs" / "airflow-standalone.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    prepare(paths, log)
    process = start(paths, port, log)
    print(f"starting Airflow (log: {log}) ...", flush=True)
    generated = paths.home / "airflow" / "simple_auth_manager_passwords.json.generated"
    while process.poll() is None and not generated.exists():
        time.sleep(1)
    if process.poll() is not None:
        raise SystemExit(f"airflow standalone exited with {process.returncode}; see {log}")
    print(f"Airflow UI: http://localhost:{port}  login: {ADMIN} / {admin_password(paths)}  (Ctrl-C stops it)")
    try:
        process.wait()
    except KeyboardInterrupt:
        os.killpg(process.pid, 2)
        process.wait()


def backfill(paths: Paths, first: date, last: date, log: Path) -> None:
    """Queue the nights ``first`` .. ``last`` for the scheduler, to run one at a time, oldest first.

    The nightly DAG is unpaused too: the scheduler starts no run of a paused DAG, backfill or not.
    A command that lost the metadata DB's lock to the running scheduler is tried again: SQLite refuses a
    write that would deadlock at once, without the wait of ``SQLITE_CONNECT_ARGS``, and Airflow takes back
    a backfill whose runs it could not create for that reason, so a second try starts clean.
    """
    retrying = Retrying(
        retry=retry_if_exception_type(MetadataLocked),
        stop=stop_after_attempt(LOCKED_ATTEMPTS),
        wait=wait_fixed(LOCKED_RETRY_SECONDS),
        reraise=True,
    )
    for args in (backfill_command(first, last), ["dags", "unpause", NIGHTLY_DAG]):
        retrying(checked_airflow, args, paths, log)


class MetadataLocked(RuntimeError):
    """An airflow command failed because another process held the metadata DB's lock."""


def checked_airflow(args: list[str], paths: Paths, log: Path) -> None:
    """``airflow(args)``, raising with the end of what the command wrote to ``log`` when it fails."""
    written = log.stat().st_size if log.exists() else 0
    if not airflow(args, paths, log):
        return
    with log.open("rb") as appended:
        appended.seek(written)
        output = appended.read().decode(errors="replace")
    error = MetadataLocked if LOCK_REFUSED in output else RuntimeError
    raise error(f"airflow {' '.join(args)} failed; see {log}:\n{output[-3000:]}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--screenshot"]:
        print(screenshot(Paths.from_env(), Path(sys.argv[2]).resolve()))
    elif sys.argv[1:2] == ["--backfill"]:
        home, first, last = Paths.from_env(), date.fromisoformat(sys.argv[2]), date.fromisoformat(sys.argv[3])
        backfill(home, first, last, home / "logs" / "airflow-standalone.log")
        print(f"queued the nights {first} .. {last}: follow them in the Airflow UI")
    else:
        main(int(os.environ.get("GRIDFUSION_AIRFLOW_PORT", "8080")))
