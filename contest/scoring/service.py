"""Scoring: PostgreSQL is the queue and the truth.

A batch is claimed with FOR UPDATE SKIP LOCKED and scored in one transaction against the key kept
in PostgreSQL, so a worker that dies mid-batch leaves its attempts 'submitted' for the next one, and
the status change makes each attempt scored exactly once. Ranking in Redis runs after the commit and
is idempotent; `ranked_at` records it, and the sweeper re-ranks what a crash left unranked.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import redis.asyncio as aioredis

from contest import clock
from contest.attempts.push import announce_ranked
from contest.clock import VN_TZ
from contest.leaderboard import scorecode
from contest.leaderboard.boards import ScoredAttempt, rank_attempts

# Each item: c correct options among n, of which `hit` correct and `miss` wrong ones are ticked. Right in full
# when exactly the correct ones are chosen (one, or all of several): UNIT ($3) points. Otherwise nothing, unless
# the contest gives partial credit and the question has several correct options: max(0, hit/c − miss/(n−c)) of
# UNIT, a whole number since UNIT is divisible by every c and n−c up to six options.
_SCORE_SQL = """
UPDATE attempt a SET status = 'scored', scored_at = $2, correct = s.correct, points = s.points
FROM (
    SELECT a2.id, count(*) FILTER (WHERE g.whole) AS correct, coalesce(sum(g.points), 0) AS points
    FROM attempt a2 JOIN round r ON r.id = a2.round JOIN contest c ON c.id = r.contest
    LEFT JOIN LATERAL (
        SELECT k.whole,
               CASE WHEN k.whole THEN $3
                    WHEN c.partial_credit AND k.c > 1
                    THEN greatest(0, $3 * k.hit / k.c - coalesce($3 * k.miss / nullif(k.n - k.c, 0), 0))
                    ELSE 0 END AS points
        FROM attempt_item i CROSS JOIN LATERAL (
            SELECT count(*)::int AS n, (count(*) FILTER (WHERE o.is_correct))::int AS c,
                   (count(*) FILTER (WHERE o.is_correct AND t.ticked))::int AS hit,
                   (count(*) FILTER (WHERE NOT o.is_correct AND t.ticked))::int AS miss,
                   bool_or(t.ticked) AND bool_and(o.is_correct = t.ticked) AS whole
            FROM option o
            CROSS JOIN LATERAL (
                SELECT o.id IS NOT DISTINCT FROM i.chosen OR o.id = ANY(coalesce(i.chosen_set, '{}')) AS ticked
            ) t
            WHERE o.id = ANY(i.option_ids)
        ) k
        WHERE i.attempt = a2.id
    ) g ON true
    WHERE a2.id = ANY($1::bigint[])
    GROUP BY a2.id
) s
WHERE a.id = s.id AND a.status = 'submitted'
RETURNING a.id
"""

_FOR_RANKING_SQL = f"""
SELECT a.id, a.round, a.contestant, p.collective AS commune, a.points, a.duration_ms,
       GREATEST(0, extract(epoch FROM a.submitted_at - r.opens_at))::int AS after_open, p."group", r.contest,
       (a.started_at AT TIME ZONE '{VN_TZ.key}')::date::text AS day
FROM attempt a JOIN contestant p ON p.id = a.contestant JOIN round r ON r.id = a.round
WHERE a.id = ANY($1::bigint[]) AND NOT a.preview
"""


@dataclass
class ScoringReport:
    scored: int = 0
    ranked: int = 0
    batches: int = 0
    # True when it stopped for time with work left: the caller queues a follow-up job.
    more: bool = False


async def score_batch(conn: asyncpg.Connection, r: aioredis.Redis, limit: int) -> tuple[int, int]:
    """Claim up to `limit` submitted attempts, score them, commit, then rank them. Returns (scored, ranked)."""
    async with conn.transaction():
        claimed = await conn.fetch(
            "SELECT id FROM attempt WHERE status = 'submitted' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", limit
        )
        if not claimed:
            return 0, 0
        ids = [row["id"] for row in claimed]
        scored = [row["id"] for row in await conn.fetch(_SCORE_SQL, ids, clock.now(), scorecode.UNIT)]
    ranked = await rank_ids(conn, r, scored)
    return len(scored), ranked


async def rank_ids(conn: asyncpg.Connection, r: aioredis.Redis, ids: list[int]) -> int:
    """Put scored attempts on the Redis boards (idempotent) and record that they are there."""
    if not ids:
        return 0
    rows = await conn.fetch(_FOR_RANKING_SQL, ids)
    new = await rank_attempts(
        r,
        [
            ScoredAttempt(
                row["id"],
                row["round"],
                row["contestant"],
                row["commune"],
                row["points"] or 0,
                row["duration_ms"] or 0,
                row["after_open"],
                row["group"],
                row["contest"],
                row["day"] or "",
            )
            for row in rows
        ],
    )
    await conn.execute("UPDATE attempt SET ranked_at = $2 WHERE id = ANY($1::bigint[])", ids, clock.now())
    await announce_ranked(r, ids)  # after ranked_at: a woken result page reads the attempt as ranked
    return new


async def score_pending(
    conn: asyncpg.Connection, r: aioredis.Redis, batch: int, max_seconds: float = 60.0, quiet_pause: float = 0.0
) -> ScoringReport:
    """Score submitted attempts batch after batch until none is left, or for at most max_seconds."""
    report = ScoringReport()
    stop_at = time.monotonic() + max_seconds
    quiet_once = False
    while True:
        scored, ranked = await score_batch(conn, r, batch)
        if not scored:
            # Look once more after a pause: a submit whose kick was skipped (scoring.queue) lands here.
            if quiet_once or quiet_pause <= 0:
                return report
            quiet_once = True
            await asyncio.sleep(quiet_pause)
            continue
        quiet_once = False
        report.scored += scored
        report.ranked += ranked
        report.batches += 1
        if time.monotonic() > stop_at:
            report.more = True
            return report


async def rerank_stale(conn: asyncpg.Connection, r: aioredis.Redis, older_than: timedelta, now: datetime) -> int:
    """Rank attempts scored but never ranked (a worker died between commit and Redis)."""
    rows = await conn.fetch(
        "SELECT id FROM attempt WHERE status = 'scored' AND ranked_at IS NULL AND scored_at < $1 LIMIT 5000",
        now - older_than,
    )
    return await rank_ids(conn, r, [row["id"] for row in rows])
