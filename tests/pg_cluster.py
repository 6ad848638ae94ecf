"""A throwaway PostgreSQL server from the installed binaries, for tests that need a real database.

``initdb`` a fresh data folder, then ``pg_ctl start`` it listening on a unix socket in that folder only (no
TCP port to collide with another run). PostgreSQL refuses to run as root, so as root the server runs as
the unprivileged ``postgres`` user the Debian package creates. Anything that goes wrong raises
``ClusterError`` with the server's own words, so a test fails with the reason instead of skipping.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "gridfusion"
SERVER_USER = "postgres"  # who runs the server when we are root


class ClusterError(RuntimeError):
    pass


def binaries() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: from PATH, else Debian's newest ``/usr/lib/postgresql/<v>/bin``."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    version = lambda p: int(re.search(r"/postgresql/(\d+)/", p).group(1))  # noqa: E731
    candidates += [
        Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=version)[::-1]
    ]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise ClusterError(
        "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin: "
        "install them with `apt-get install -y --no-install-recommends postgresql` (.ci/run does)"
    )


class Cluster:
    """One server on a unix socket in its own temporary folder; ``stop()`` and ``start()`` it at will."""

    def __init__(self) -> None:
        self.bin = binaries()
        self.as_root = os.geteuid() == 0
        # Not under pytest's tmp folder: that is private to root, and the server may run as another user.
        self.folder = Path(tempfile.mkdtemp(prefix="gridfusion-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = random.randint(20000, 60000)  # names the socket file; there is no TCP listener
        if self.as_root:
            try:
                server_user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise ClusterError(
                    f"running as root, and there is no {SERVER_USER!r} user to run the server"
                ) from None
            os.chown(self.folder, server_user.pw_uid, server_user.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )

    def _run(self, program: str, *args: str) -> str:
        command = [str(self.bin / program), *args]
        if self.as_root:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text()[-3000:] if self.log.exists() else ""
            raise ClusterError(
                f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{log}"
            )
        return done.stdout

    def start(self) -> None:
        options = (
            f"-k {self.folder} -p {self.port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options
        )

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")

    def dsn(self, database: str = "postgres") -> str:
        return f"host={self.folder} port={self.port} user={SUPERUSER} dbname={database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as con:
            con.execute(f'create database "{name}"')
        return self.dsn(name)

    def remove(self) -> None:
        with contextlib.suppress(ClusterError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
