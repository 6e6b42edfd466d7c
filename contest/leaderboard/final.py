"""The published order on the boards. PostgreSQL's round results are the one truth of a round's final order
(results.service computes it: the prediction tiebreak, the disqualified left out); once they are published, the
round's boards (overall, per commune, per group) hold that order, so every board, "my places" and the API read it
from Redis as before. Before publication the boards are provisional (points, then time).

The contest-wide boards keep each person's best result over the rounds. Before any of the contest's rounds is
published they are provisional (points, then time). Once one is, they follow the rounds' published order: a person's
results of a published round are its results (a disqualified person's left out), of the other rounds their scored
attempts, and the order is
  points (more first)
  → a result of a published round before one still provisional
  → among published ones: the prediction's relative error |prediction − actual| / actual of that round (smaller
    first; unknown — no prediction asked or given — after known), then shorter time, then earlier submission
  → among provisional ones: shorter time.
Each person keeps their best result under that order. In a one-round contest this is exactly the order of /results.
The order is written as `scorecode.encode_final` scores (points | rank | duration), the rank from PostgreSQL below; a
provisional result scored later joins in the same layout without a rank (`scorecode.encode_unranked`, chosen by the
ranking script when the board already holds published scores), so `contest leaderboards check` agrees with it.
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
SELECT rr.contestant, rr.rank, rr.points, rr.duration_ms, p.collective AS commune, p."group"
FROM round_result rr JOIN contestant p ON p.id = rr.contestant JOIN round r ON r.id = rr.round
WHERE rr.round = $1 AND r.results_published_at IS NOT NULL AND NOT rr.disqualified
"""

# Every result of a contest: a published round's results (the disqualified left out), the other rounds' scored
# attempts. The published ones ranked among themselves by the contest's tie order (see the docstring).
_CONTEST_SQL = """
WITH candidate AS (
    SELECT rr.contestant, coalesce(rr.points, 0) AS points, coalesce(rr.duration_ms, 0) AS duration_ms,
           rr.submitted_at, 0 AS after_open, true AS published,
           CASE WHEN r.ask_prediction AND r.participants_final > 0
                THEN rr.prediction_gap::float8 / r.participants_final END AS error
    FROM round_result rr JOIN round r ON r.id = rr.round
    WHERE r.contest = $1 AND r.results_published_at IS NOT NULL AND NOT rr.disqualified
    UNION ALL
    SELECT a.contestant, coalesce(a.points, 0), coalesce(a.duration_ms, 0), a.submitted_at,
           GREATEST(0, extract(epoch FROM a.submitted_at - r.opens_at))::int, false, NULL
    FROM attempt a JOIN round r ON r.id = a.round
    WHERE r.contest = $1 AND r.results_published_at IS NULL AND a.status = 'scored' AND NOT a.preview
)
SELECT c.contestant, c.points, c.duration_ms, c.after_open, c.published, p.collective AS commune, p."group",
       rank() OVER (PARTITION BY c.published
                    ORDER BY c.points DESC, c.error ASC NULLS LAST, c.duration_ms ASC, c.submitted_at ASC) AS rank
FROM candidate c JOIN contestant p ON p.id = c.contestant
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
    """The contest-wide boards: each person's best over the rounds, in the rounds' published order once one is."""
    boards: Boards = {}
    rows = await conn.fetch(_CONTEST_SQL, contest_id)
    ordered = any(row["published"] for row in rows)
    for row in rows:
        member = str(row["contestant"])
        score = _contest_score(row, ordered)
        targets = [keys.contest_board(contest_id), keys.contest_commune_board(contest_id, row["commune"])]
        if row["group"]:
            targets.append(keys.contest_group_board(contest_id, row["group"]))
        for key in targets:
            board = boards.setdefault(key, {})
            board[member] = max(board.get(member, score), score)
    return boards


def _contest_score(row: asyncpg.Record, ordered: bool) -> int:
    """One result's score on a contest board: provisional until a round is published, then in the final layout."""
    if not ordered:
        return scorecode.encode(row["points"], row["duration_ms"], row["after_open"])
    if row["published"]:
        return scorecode.encode_final(row["points"], row["rank"], row["duration_ms"])
    return scorecode.encode_unranked(row["points"], row["duration_ms"])


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
