"""The published order on the boards. PostgreSQL's round results are the one truth of a round's final order
(results.service computes it: the prediction tiebreak, the disqualified left out); once they are published, the
round's boards (overall, per commune, per group) hold that order, so every board, "my places" and the API read it
from Redis as before. Before publication the boards are provisional (points, then time).

The contest-wide boards keep each person's best over the rounds by points and time (a prediction is about
one round's participants, so it breaks no tie across rounds); a result of a round where the person was
disqualified, once published, is left out.
"""

from __future__ import annotations

import asyncpg
import redis.asyncio as aioredis

from contest import keys
from contest.leaderboard import scorecode
from contest.leaderboard.recount import write_contest_counters, write_round_counters
from contest.redis import async_redis
from contest.settings import get_settings

Boards = dict[str, dict[str, int]]

_FINAL_SQL = """
SELECT rr.contestant, rr.rank, rr.points, rr.duration_ms, p.commune, p."group"
FROM round_result rr JOIN contestant p ON p.id = rr.contestant JOIN round r ON r.id = rr.round
WHERE rr.round = $1 AND r.results_published_at IS NOT NULL AND NOT rr.disqualified
"""

# Every counted attempt of a contest, less those of a round where its author was disqualified (once published).
_CONTEST_SQL = """
SELECT a.contestant, p.commune, p."group", a.points, a.duration_ms,
       GREATEST(0, extract(epoch FROM a.submitted_at - r.opens_at))::int AS after_open
FROM attempt a JOIN contestant p ON p.id = a.contestant JOIN round r ON r.id = a.round
WHERE r.contest = $1 AND a.status = 'scored' AND NOT a.preview
  AND NOT EXISTS (SELECT 1 FROM round_result rr WHERE rr.round = a.round AND rr.contestant = a.contestant
                  AND rr.disqualified AND r.results_published_at IS NOT NULL)
"""


async def published(conn: asyncpg.Connection, round_id: int) -> bool:
    """Whether the round's results are published (its boards then hold the final order)."""
    return bool(await conn.fetchval("SELECT results_published_at IS NOT NULL FROM round WHERE id = $1", round_id))


async def final_boards(conn: asyncpg.Connection, round_id: int) -> Boards:
    """The round's boards in the published order (nothing before publication): key -> {contestant: score}."""
    boards: Boards = {}
    for row in await conn.fetch(_FINAL_SQL, round_id):
        member = str(row["contestant"])
        score = scorecode.encode_final(row["points"], row["rank"], row["duration_ms"])
        boards.setdefault(keys.board(round_id), {})[member] = score
        boards.setdefault(keys.commune_board(round_id, row["commune"]), {})[member] = score
        if row["group"]:
            boards.setdefault(keys.group_board(round_id, row["group"]), {})[member] = score
    return boards


async def contest_boards(conn: asyncpg.Connection, contest_id: int) -> Boards:
    """The contest-wide boards: each person's best over the rounds, disqualified results of published rounds aside."""
    boards: Boards = {}
    for row in await conn.fetch(_CONTEST_SQL, contest_id):
        member = str(row["contestant"])
        score = scorecode.encode(row["points"] or 0, row["duration_ms"] or 0, row["after_open"])
        targets = [keys.contest_board(contest_id), keys.contest_commune_board(contest_id, row["commune"])]
        if row["group"]:
            targets.append(keys.contest_group_board(contest_id, row["group"]))
        for key in targets:
            board = boards.setdefault(key, {})
            board[member] = max(board.get(member, score), score)
    return boards


async def _replace(r: aioredis.Redis, patterns: list[str], boards: Boards) -> None:
    """Swap every board matching the patterns for `boards` in one transaction (all keys share one hash tag)."""
    old = []
    for pattern in patterns:
        old += [key async for key in r.scan_iter(match=pattern, count=1000)]
    async with r.pipeline(transaction=True) as pipe:
        if old:
            pipe.delete(*old)
        for key, members in boards.items():
            pipe.zadd(key, members)  # type: ignore[arg-type]
        await pipe.execute()


async def recount_contest(conn: asyncpg.Connection, r: aioredis.Redis, contest_id: int) -> None:
    """The contest-wide boards and counters recounted from PostgreSQL, each swapped in one transaction."""
    contest_patterns = [p for p in keys.contest_pattern(contest_id) if p.startswith("cboard:")]
    await _replace(r, contest_patterns, await contest_boards(conn, contest_id))
    await write_contest_counters(conn, r, contest_id)


def _board_patterns(round_id: int) -> list[str]:
    return [p for p in keys.round_pattern(round_id) if p.startswith("board:")]


async def show_final_order(round_id: int, conn: asyncpg.Connection | None = None) -> None:
    """After publication (or a reopening): the round's boards and its contest's boards follow the results, so do the
    participation counters of both, and the shared renderings of both are dropped so nobody sees the old order."""
    own = conn is None
    conn = conn or await asyncpg.connect(get_settings().db.url)
    try:
        r = async_redis()
        contest_id = await conn.fetchval("SELECT contest FROM round WHERE id = $1", round_id)
        if await published(conn, round_id):
            await _replace(r, _board_patterns(round_id), await final_boards(conn, round_id))
        # The participation counters follow: a person disqualified in a published round counts there no more.
        await write_round_counters(conn, r, round_id)
        await recount_contest(conn, r, contest_id)
        await drop_renderings(r, round_id, contest_id)
    finally:
        if own:
            await conn.close()


async def drop_renderings(r: aioredis.Redis, round_id: int, contest_id: int) -> None:
    """Drop the short-lived shared renderings (fragments, collective rankings) of a round and its contest."""
    for tag in (str(round_id), f"c{contest_id}"):
        async for key in r.scan_iter(match=keys.board_fragment(tag, "*"), count=1000):
            await r.delete(key)
