"""Rebuild a round's Redis boards from PostgreSQL, the truth."""

from __future__ import annotations

import asyncpg

from contest.leaderboard.service import clear_round
from contest.redis import async_redis
from contest.scoring.service import rank_ids
from contest.settings import get_settings


async def rebuild_round(round_id: int, chunk: int = 5000) -> str:
    """Drop the round's keys and rank every scored attempt again, in chunks."""
    r = async_redis()
    await clear_round(r, round_id)
    conn = await asyncpg.connect(get_settings().db.url)
    try:
        ids = [
            row["id"]
            for row in await conn.fetch("SELECT id FROM attempt WHERE round = $1 AND status = 'scored' ORDER BY id", round_id)
        ]
        ranked = 0
        for start in range(0, len(ids), chunk):
            ranked += await rank_ids(conn, r, ids[start : start + chunk])
            print(f"\r  {min(start + chunk, len(ids))}/{len(ids)} attempts", end="", flush=True)
        print()
    finally:
        await conn.close()
    return f"round {round_id}: {ranked} attempts ranked from PostgreSQL"
