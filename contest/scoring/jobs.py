"""RQ entry points for scoring. Workers import this (and the heavy modules) before they fork."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import asyncpg
import redis.asyncio as aioredis

from contest import clock, keys
from contest.attempts import finishing
from contest.redis import sync_redis
from contest.scoring import service
from contest.scoring.queue import KICK_QUIET, scoring_queue
from contest.settings import get_settings


async def _with_connections(work):  # type: ignore[no-untyped-def]
    settings = get_settings()
    conn = await asyncpg.connect(settings.db.url)
    r = aioredis.Redis.from_url(settings.redis.url, decode_responses=True)
    try:
        return await work(conn, r)
    finally:
        await conn.close()
        await r.aclose()


def score_submitted() -> dict[str, int]:
    """Score everything submitted so far (woken by submits; several may run side by side)."""
    # Cleared before looking, so a submit after this point queues a new job rather than being missed.
    sync_redis().delete(keys.SCORING_KICK)
    batch = get_settings().contest.scoring_batch

    async def work(conn, r):  # type: ignore[no-untyped-def]
        return await service.score_pending(conn, r, batch, quiet_pause=KICK_QUIET)

    report = asyncio.run(_with_connections(work))
    if report.more:
        # A long peak: hand over to a fresh job rather than run into the job timeout.
        scoring_queue().enqueue(score_submitted, job_timeout=600, result_ttl=60)
    return {"scored": report.scored, "ranked": report.ranked, "batches": report.batches}


def sweep() -> dict[str, int]:
    """Periodic: auto-submit expired attempts, score what is waiting, re-rank what a crash left unranked."""
    batch = get_settings().contest.scoring_batch

    async def work(conn, r):  # type: ignore[no-untyped-def]
        now = clock.now()
        closed = await finishing.close_expired(now)
        report = await service.score_pending(conn, r, batch)
        reranked = await service.rerank_stale(conn, r, timedelta(seconds=30), now)
        return {"auto_submitted": closed, "scored": report.scored, "reranked": reranked}

    return asyncio.run(_with_connections(work))
