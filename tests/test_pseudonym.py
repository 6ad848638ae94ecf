"""The ``pseudonym`` macro is HMAC-SHA256 as Python's ``hmac`` computes it, for any key length."""

import hashlib
import hmac

import duckdb
import pytest

from warehouse.pseudonym import define_pseudonym, hmac_pads

VALUES = ["id:210202198001011234", "tel:+8613800000000", "rec:gov.residents/7", "张三", "", None]


@pytest.mark.parametrize("key", [b"k", b"test-only-pseudonym-key", b"0123456789abcdef" * 4, b"x" * 100])
def test_the_macro_is_hmac_sha256_of_the_value(key):
    con = duckdb.connect()
    define_pseudonym(con, key)
    got = [
        row[0]
        for row in con.execute(
            "select pseudonym(v) from unnest(?) with ordinality t(v, n) order by n", [VALUES]
        ).fetchall()
    ]
    expected = [
        None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in VALUES
    ]
    assert got == expected


def test_the_macro_reads_the_key_from_the_connection_never_from_its_text():
    key = b"a-secret-key"
    con = duckdb.connect()
    define_pseudonym(con, key)
    (definition,) = con.execute(
        "select macro_definition from duckdb_functions() where function_name = 'pseudonym'"
    ).fetchone()
    inner, outer = hmac_pads(key)
    assert "getvariable('pseudonym_inner_pad')" in definition
    assert not any(secret in definition.lower() for secret in (key.decode(), inner.hex(), outer.hex()))
