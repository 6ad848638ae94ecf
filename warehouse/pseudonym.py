"""Keyed pseudonyms for personal data, registered as the DuckDB function ``pseudonym(text)``.

A dbt-duckdb plugin: every dbt connection gets ``pseudonym``, an HMAC-SHA256 of the value under a key
kept outside the repository (``GRIDFUSION_PSEUDONYM_KEY``, or the key file under the gridfusion home,
created on first use). The same person gets the same key every night; without the key it cannot be
reversed or recomputed from an ID number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from ingest.config import Paths


def load_key(paths: Paths | None = None) -> bytes:
    if value := os.environ.get("GRIDFUSION_PSEUDONYM_KEY"):
        return value.encode()
    key_file = (paths or Paths.from_env()).home / "secrets" / "pseudonym.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return key_file.read_text().strip().encode()


def pseudonymise(key: bytes, values: pa.Array) -> pa.Array:
    return pa.array(
        [
            None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32]
            for v in values.to_pylist()
        ],
        pa.string(),
    )


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        self.key = load_key()

    def configure_connection(self, conn) -> None:
        key = self.key
        conn.create_function(
            "pseudonym",
            lambda values: pseudonymise(key, values),
            ["VARCHAR"],
            "VARCHAR",
            type="arrow",
            null_handling="special",
        )
