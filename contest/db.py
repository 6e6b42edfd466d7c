"""The PostgreSQL engine (Piccolo on asyncpg)."""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine

from contest.settings import get_settings


def make_engine() -> PostgresEngine:
    url = get_settings().db.url
    if not url:
        raise RuntimeError("DATABASE_URL is not set: start through `contest run` or set it.")
    return PostgresEngine(config={"dsn": url}, log_queries=False)


def engine() -> PostgresEngine:
    """The engine every table uses (the one piccolo_conf made)."""
    from contest.people.tables import Commune

    return Commune._meta.db  # type: ignore[return-value]
