"""The PostgreSQL engine (Piccolo on asyncpg), and raw SQL: `raw` ({} placeholders, dicts) and `fetch` ($1, records)."""

from __future__ import annotations

from typing import Any

import asyncpg
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from contest.settings import get_settings


def make_engine() -> PostgresEngine:
    url = get_settings().db.url
    if not url:
        raise RuntimeError("DATABASE_URL is not set: start through `contest run` or set it.")
    return PostgresEngine(config={"dsn": url}, log_queries=False)


def engine() -> PostgresEngine:
    """The engine every table uses (the one piccolo_conf made)."""
    # Inside the function on purpose: a table module builds its engine through piccolo_conf, which imports this module.
    from contest.people.tables import Commune

    return Commune._meta.db  # type: ignore[return-value]


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query on release: we hold no session state (advisory locks are per transaction,
    no LISTEN, no SET), and the round trip it costs is paid on every request."""


async def start_pool(max_size: int = 20) -> None:
    await engine().start_connection_pool(min_size=2, max_size=max_size, reset=_keep_session)


async def close_pool() -> None:
    await engine().close_connection_pool()


async def fetch(sql: str, *args: Any) -> list[asyncpg.Record]:
    """One statement ($1 placeholders) without building a Piccolo query: the hot paths (answer save, submit).

    Inside `engine().transaction()` it runs on the transaction's connection, as Piccolo's own queries do.
    """
    transaction = engine().current_transaction.get()
    if transaction is not None:
        return await transaction.connection.fetch(sql, *args)
    pool = engine().pool
    if pool is not None:
        return await pool.fetch(sql, *args)
    conn = await engine().get_new_connection()
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """One statement with Piccolo's {} placeholders, its rows as dicts: what a table's raw() did, without the table.

    Inside `engine().transaction()` it runs on the transaction's connection (Piccolo's run_querystring does the same).
    """
    query, values = QueryString(sql, *args).compile_string(engine_type=engine().engine_type)
    return [dict(row.items()) for row in await fetch(query, *values)]
