"""The participation counters recounted from PostgreSQL: what `contest leaderboards check` compares Redis with,
what a rebuild and a publication put back, and what certificates count from (leaderboard.counters keeps them live).

Counted: scored attempts that are not previews, less, once a round's results are published, those of a person
disqualified in it (as the published boards leave them out). Registrations: contestants that are not previews.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import redis.asyncio as aioredis

from contest import keys
from contest.clock import VN_TZ
from contest.leaderboard.counters import pair

# What the scoring pipeline ranks (see scoring.service._FOR_RANKING_SQL): scored, never previews; with the day it
# was started in Vietnam and whether its author was disqualified in a published round.
_RANKABLE_SQL = f"""
SELECT a.id, a.round, r.contest, a.contestant, p.collective AS commune, p."group", a.points, a.duration_ms,
       a.ranked_at IS NOT NULL AS ranked, GREATEST(0, extract(epoch FROM a.submitted_at - r.opens_at))::int AS after_open,
       (a.started_at AT TIME ZONE '{VN_TZ.key}')::date::text AS day,
       EXISTS (SELECT 1 FROM round_result rr WHERE rr.round = a.round AND rr.contestant = a.contestant
               AND rr.disqualified AND r.results_published_at IS NOT NULL) AS disqualified
FROM attempt a JOIN contestant p ON p.id = a.contestant JOIN round r ON r.id = a.round
WHERE {{}} AND a.status = 'scored' AND NOT a.preview
ORDER BY a.id
"""
OF_ROUND = _RANKABLE_SQL.format("a.round = $1")
OF_CONTEST = _RANKABLE_SQL.format("r.contest = $1")
_REGISTERED_SQL = (
    'SELECT collective AS commune, "group", count(*) AS n FROM contestant WHERE contest = $1 AND NOT preview GROUP BY 1, 2'
)

# Every key as PostgreSQL says it should be: ("zset", {member: score}) | ("hash", {field: count}) | ("set", {member}).
Expected = dict[str, tuple[str, dict[str, int] | set[str]]]


def count(expected: Expected, key: str, field_: str, by: int = 1) -> None:
    counts = expected.setdefault(key, ("hash", {}))[1]
    assert isinstance(counts, dict)
    counts[field_] = counts.get(field_, 0) + by


def add(expected: Expected, key: str, member: str) -> None:
    members = expected.setdefault(key, ("set", set()))[1]
    assert isinstance(members, set)
    members.add(member)


def _pairs(expected: Expected, scope: str, rows: list[asyncpg.Record]) -> None:
    """The "commune|group" counters and each person's best, as the ranking scripts leave them (leaderboard.counters)."""
    best: dict[str, int] = {}
    for row in rows:
        member, field_, points = str(row["contestant"]), pair(row["commune"], row["group"] or ""), row["points"] or 0
        count(expected, keys.tally(scope, keys.PAIR_ATTEMPTS), field_)
        if member not in best:
            count(expected, keys.tally(scope, keys.PAIR_PEOPLE), field_)
            count(expected, keys.tally(scope, keys.PAIR_BEST), field_, points)
        elif points > best[member]:
            count(expected, keys.tally(scope, keys.PAIR_BEST), field_, points - best[member])
        best[member] = max(best.get(member, points), points)
    for member, value in best.items():
        count(expected, keys.tally(scope, keys.BEST), member, value)


def round_counters(round_id: int, rows: list[asyncpg.Record]) -> Expected:
    """A round's counters (per commune, per group, per "commune|group") from its rankable attempts."""
    expected: Expected = {}
    counted = [row for row in rows if not row["disqualified"]]
    seen: set[int] = set()
    for row in counted:
        first = row["contestant"] not in seen
        seen.add(row["contestant"])
        count(expected, keys.attempts(round_id), str(row["commune"]))
        count(expected, keys.people(round_id), str(row["commune"]), int(first))
        if row["group"]:  # the scoring script leaves a contestant without a group out of the group counters
            count(expected, keys.group_attempts(round_id), row["group"])
            count(expected, keys.group_people(round_id), row["group"], int(first))
    _pairs(expected, str(round_id), counted)
    return expected


def contest_counters(contest_id: int, rows: list[asyncpg.Record], registered: list[asyncpg.Record]) -> Expected:
    """A contest's counters: per "commune|group" over its rounds, per day and commune, and registrations."""
    tag = f"c{contest_id}"
    expected: Expected = {}
    counted = [row for row in rows if not row["disqualified"]]
    _pairs(expected, tag, counted)
    seen: set[str] = set()
    for row in counted:
        day = f"{row['day']}|{row['commune']}"
        count(expected, keys.tally(tag, keys.DAY_ATTEMPTS), day)
        person_day = f"{row['day']}|{row['contestant']}"
        if person_day not in seen:
            seen.add(person_day)
            count(expected, keys.tally(tag, keys.DAY_PEOPLE), day)
            add(expected, keys.tally(tag, keys.DAY_SEEN), person_day)
    for row in rows:  # a disqualified person's attempts were counted once too: a replay must not count them
        add(expected, keys.contest_ranked(contest_id), str(row["id"]))
    for row in registered:
        count(expected, keys.tally(tag, keys.REGISTERED), pair(row["commune"], row["group"] or ""), row["n"])
    return expected


async def round_rows(conn: Any, round_id: int) -> list[asyncpg.Record]:
    """The round's rankable attempts, oldest first (`conn`: anything with asyncpg's fetch)."""
    return await conn.fetch(OF_ROUND, round_id)


async def expected_contest_counters(conn: Any, contest_id: int) -> tuple[Expected, int, int]:
    """The contest's counters recounted; also (scored attempts, of which not yet ranked)."""
    rows = await conn.fetch(OF_CONTEST, contest_id)
    registered = await conn.fetch(_REGISTERED_SQL, contest_id)
    return contest_counters(contest_id, rows, registered), len(rows), sum(1 for row in rows if not row["ranked"])


async def write_round_counters(conn: asyncpg.Connection, r: aioredis.Redis, round_id: int) -> None:
    """Replace a round's counters with a recount (after a publication or a reopening)."""
    rows = await round_rows(conn, round_id)
    ranked: Expected = {}
    for row in rows:
        add(ranked, keys.ranked(round_id), str(row["id"]))
    await _replace(r, [keys.tally(str(round_id), "*")], {**round_counters(round_id, rows), **ranked})


async def write_contest_counters(conn: asyncpg.Connection, r: aioredis.Redis, contest_id: int) -> None:
    """Replace a contest's counters (and the set of attempts they counted) with a recount."""
    expected, _, _ = await expected_contest_counters(conn, contest_id)
    await _replace(r, [keys.tally(f"c{contest_id}", "*"), keys.contest_ranked(contest_id)], expected)


_CHUNK = 10_000


async def _replace(r: aioredis.Redis, patterns: list[str], expected: Expected) -> None:
    """Swap the keys matching the patterns for `expected` in one transaction (they share one hash tag); a key not
    matched only grows (the round's ranked set: it also keeps the round's boards idempotent)."""
    old: list[str] = []
    for pattern in patterns:
        old += [key async for key in r.scan_iter(match=pattern, count=1000)]
    async with r.pipeline(transaction=True) as pipe:
        if old:
            pipe.delete(*old)
        for key, (kind, content) in expected.items():
            items = list(content.items()) if isinstance(content, dict) else list(content)
            for start in range(0, len(items), _CHUNK):
                chunk = items[start : start + _CHUNK]
                if kind == "hash":
                    pipe.hset(key, mapping=dict(chunk))  # type: ignore[arg-type]
                else:
                    pipe.sadd(key, *chunk)
        await pipe.execute()
