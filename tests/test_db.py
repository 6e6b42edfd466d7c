"""Raw SQL through contest.db: the rows Piccolo's Table.raw gave, and inside a transaction when one is open."""

from __future__ import annotations

import re

import pytest

from contest import db
from contest.db import engine
from contest.people.tables import Commune
from tests.conftest import ROOT


async def test_raw_rows_are_the_dicts_piccolo_gave() -> None:
    sql = "SELECT code, name, province, {} AS asked, now() - now() AS nothing FROM commune ORDER BY code LIMIT 3"
    rows = await db.raw(sql, "xã")
    assert rows and rows == await Commune.raw(sql, "xã")
    assert all(type(row) is dict for row in rows)


async def test_a_statement_inside_a_transaction_runs_in_it() -> None:
    async def txid() -> int:
        return int((await db.raw("SELECT txid_current() AS id"))[0]["id"])

    async with engine().transaction():
        inside = await txid()
        assert await txid() == inside
        assert (await Commune.raw("SELECT txid_current() AS id"))[0]["id"] == inside
        assert int((await db.fetch("SELECT txid_current() AS id"))[0]["id"]) == inside
    assert await txid() != inside


async def test_what_a_failed_transaction_wrote_through_raw_sql_is_undone() -> None:
    code = (await db.raw("SELECT min(code) AS code FROM commune"))[0]["code"]
    before = (await db.raw("SELECT name FROM commune WHERE code = {}", code))[0]["name"]
    with pytest.raises(RuntimeError):
        async with engine().transaction():
            await db.raw("UPDATE commune SET name = {} WHERE code = {}", "Tạm thời", code)
            assert (await db.raw("SELECT name FROM commune WHERE code = {}", code))[0]["name"] == "Tạm thời"
            raise RuntimeError("rolled back")
    assert (await db.raw("SELECT name FROM commune WHERE code = {}", code))[0]["name"] == before


def test_raw_sql_goes_through_db_not_through_an_unrelated_table() -> None:
    modules = [p for p in (ROOT / "contest").rglob("*.py") if "piccolo_migrations" not in p.parts]
    found = [f"{p.relative_to(ROOT)}: {m}" for p in modules for m in re.findall(r"\b[A-Z]\w*\.raw\(", p.read_text())]
    assert found == []
