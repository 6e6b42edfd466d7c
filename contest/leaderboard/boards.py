"""Boards in Redis: per round overall, per commune and per group, the contest-wide boards, and participation
counters per commune and group. Ranking scored attempts on them, and reading places and tops off them.

PostgreSQL holds every result; everything here can be rebuilt from it (`leaderboard.rebuild`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from contest import keys
from contest.leaderboard import counters, scorecode

# Count an attempt once: the ranked set says whether it was counted before, so a replay changes nothing.
# ZADD GT keeps a person's best attempt. The contestant's group boards and counters come with the
# commune's. Every key is the round's (one hash tag, one cluster slot: see keys). A round whose boards hold its
# published order (scores below zero, see scorecode.encode_final) takes nothing more: its results are frozen.
# The round's participation counters per "commune|group" move in the same script (leaderboard.counters).
_RANK_LUA = (
    counters.COUNT_LUA
    + """
local low = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if low[2] and tonumber(low[2]) < 0 then return 0 end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
local new = not redis.call('ZSCORE', KEYS[2], ARGV[2])
if new then redis.call('HINCRBY', KEYS[4], ARGV[4], 1) end
redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], 'GT', ARGV[3], ARGV[2])
if ARGV[5] ~= '' then
  redis.call('HINCRBY', KEYS[8], ARGV[5], 1)
  if new then redis.call('HINCRBY', KEYS[7], ARGV[5], 1) end
  redis.call('ZADD', KEYS[6], 'GT', ARGV[3], ARGV[2])
end
count(9, ARGV[2], ARGV[7], ARGV[6])
return 1
"""
)

# The best n, the member's score, how many are strictly better (equal results share a rank) and the size:
# one round trip for "top 20 + my rank".
_TOP_AND_RANK_LUA = """
local rows = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local total = redis.call('ZCARD', KEYS[1])
if ARGV[2] == '' then return {rows, false, -1, total} end
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not score then return {rows, false, -1, total} end
return {rows, score, redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf'), total}
"""


@dataclass(frozen=True)
class ScoredAttempt:
    attempt_id: int
    round_id: int
    contestant_id: int
    commune: int
    points: int  # sixtieths of a question (scorecode.UNIT)
    duration_ms: int
    submitted_after_open_s: int
    # The contestant's group ("" leaves the group boards alone) and the round's contest (0: no contest boards).
    group: str = ""
    contest_id: int = 0
    # The day it was started in Vietnam ("2026-12-04"), for the contest's per-day counters.
    day: str = ""

    @property
    def score(self) -> int:
        return scorecode.encode(self.points, self.duration_ms, self.submitted_after_open_s)


async def rank_attempts(r: aioredis.Redis, attempts: list[ScoredAttempt]) -> int:
    """Put scored attempts on the boards in one pipeline; returns how many were new."""
    if not attempts:
        return 0
    script = r.register_script(_RANK_LUA)
    counted: list[int] = []  # where the script's answers are among the pipeline's
    async with r.pipeline(transaction=False) as pipe:
        for a in attempts:
            counted.append(len(pipe))
            await script(
                keys=[
                    keys.ranked(a.round_id),
                    keys.board(a.round_id),
                    keys.commune_board(a.round_id, a.commune),
                    keys.people(a.round_id),
                    keys.attempts(a.round_id),
                    keys.group_board(a.round_id, a.group),
                    keys.group_people(a.round_id),
                    keys.group_attempts(a.round_id),
                    *counters.round_tally_keys(a.round_id),
                ],
                args=[a.attempt_id, a.contestant_id, a.score, a.commune, a.group, a.points, counters.pair(a.commune, a.group)],
                client=pipe,
            )
            if a.contest_id:
                # The contest-wide boards and counters: another hash tag, so another script (see keys).
                unranked = scorecode.encode_unranked(a.points, a.duration_ms)
                contest = counters.ContestCount(
                    a.attempt_id, a.contest_id, a.contestant_id, a.commune, a.group, a.points, a.score, a.day, unranked
                )
                await counters.queue_contest_count(r, pipe, contest)
        results = await pipe.execute()
    return sum(int(results[i]) for i in counted)


@dataclass(frozen=True)
class Place:
    """One contestant's place on one board."""

    score: int
    rank: int
    of: int

    @property
    def points(self) -> int:
        return scorecode.decode(self.score)[0]

    @property
    def correct(self) -> int | float:
        """The score in questions (7.5 with partial credit)."""
        return scorecode.in_questions(self.points) or 0

    @property
    def duration_ms(self) -> int:
        return scorecode.decode(self.score)[1]


@dataclass(frozen=True)
class Standing(Place):
    """A place on the round's board, with the place in the contestant's commune."""

    commune_rank: int
    commune_of: int


async def standing(r: aioredis.Redis, round_id: int, contestant_id: int, commune: int) -> Standing | None:
    """A contestant's best result and rank, overall and in their commune. Equal results share a rank."""
    board, cboard = keys.board(round_id), keys.commune_board(round_id, commune)
    score = await r.zscore(board, contestant_id)
    if score is None:
        return None
    better = f"({int(score)}"
    async with r.pipeline(transaction=False) as pipe:
        pipe.zcount(board, better, "+inf")
        pipe.zcard(board)
        pipe.zcount(cboard, better, "+inf")
        pipe.zcard(cboard)
        above, total, c_above, c_total = await pipe.execute()
    return Standing(int(score), above + 1, total, c_above + 1, c_total)


async def top(r: aioredis.Redis, round_id: int, n: int = 20, commune: int | None = None) -> list[tuple[int, int, int]]:
    """The best n as (rank, contestant id, score), ties sharing a rank."""
    key = keys.board(round_id) if commune is None else keys.commune_board(round_id, commune)
    rows: list[tuple[str, float]] = await r.zrevrange(key, 0, n - 1, withscores=True)  # type: ignore[assignment]
    return _ranked(rows)


def _ranked(rows: Sequence[tuple[str | bytes, float]]) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for i, (member, score) in enumerate(rows):
        rank = out[-1][0] if out and out[-1][2] == int(score) else i + 1
        out.append((rank, int(member), int(score)))
    return out


async def top_and_rank(
    r: aioredis.Redis, key: str, n: int = 20, contestant_id: int | None = None
) -> tuple[list[tuple[int, int, int]], int, Place | None]:
    """The best n of a board (rank, contestant id, score), its size, and one contestant's place: one round trip."""
    script = r.register_script(_TOP_AND_RANK_LUA)
    flat, score, above, total = await script(keys=[key], args=[n, "" if contestant_id is None else contestant_id])
    rows = [(flat[i], float(flat[i + 1])) for i in range(0, len(flat), 2)]
    place = Place(int(float(score)), int(above) + 1, int(total)) if score else None
    return _ranked(rows), int(total), place


async def place_on(r: aioredis.Redis, key: str, contestant_id: int) -> Place | None:
    """One contestant's place on one board, equal results sharing a rank."""
    score = await r.zscore(key, contestant_id)
    if score is None:
        return None
    async with r.pipeline(transaction=False) as pipe:
        pipe.zcount(key, f"({int(score)}", "+inf")
        pipe.zcard(key)
        above, total = await pipe.execute()
    return Place(int(score), above + 1, total)


async def participation(r: aioredis.Redis, round_id: int) -> dict[int, tuple[int, int]]:
    """Commune code -> (people, attempts) scored so far in the round."""
    async with r.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.people(round_id))
        pipe.hgetall(keys.attempts(round_id))
        people, attempts = await pipe.execute()
    return {int(c): (int(people.get(c, 0)), int(n)) for c, n in attempts.items()}


async def group_participation(r: aioredis.Redis, round_id: int) -> dict[str, tuple[int, int]]:
    """Contestant group -> (people, attempts) scored so far in the round."""
    async with r.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.group_people(round_id))
        pipe.hgetall(keys.group_attempts(round_id))
        people, attempts = await pipe.execute()
    return {_text(g): (int(people.get(g, 0)), int(n)) for g, n in attempts.items()}


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def clear_round(r: aioredis.Redis, round_id: int) -> None:
    """Drop every key of a round (before a rebuild)."""
    await _drop(r, keys.round_pattern(round_id))


async def clear_contest(r: aioredis.Redis, contest_id: int) -> None:
    """Drop the contest-wide boards (before ranking every round of the contest again)."""
    await _drop(r, keys.contest_pattern(contest_id))


async def _drop(r: aioredis.Redis, patterns: list[str]) -> None:
    for pattern in patterns:
        async for key in r.scan_iter(match=pattern, count=1000):
            await r.delete(key)
