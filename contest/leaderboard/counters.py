"""Participation counters in Redis, kept as attempts are ranked and people register, so that the officials'
dashboard and the collective rankings read a few hashes instead of counting attempts in PostgreSQL per view.

A round's counters go up in the ranking script itself (leaderboard.boards), a contest's in the script below that
also puts the attempt on the contest-wide boards; each is counted once per attempt id (a set per scope), so a job
delivered twice counts once. What counts is what the boards rank: a scored attempt that is not a preview. Once a
round's results are published, a person disqualified in it counts no more there (nor in the contest's counters for
that round), as on the boards: publication recounts the round's and the contest's counters from PostgreSQL
(leaderboard.recount), and so does `contest leaderboards rebuild`; `check` compares them with a recount.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from contest import keys

log = logging.getLogger(__name__)

# Count one attempt of `member` for the field `pair` ("commune|group") in the four counters KEYS[k..k+3] (people,
# attempts, sum of best results, each person's best; results in points, sixtieths of a question): one more attempt;
# one more person the first time (the best hash knows them); the sum of best results grows by what this attempt
# improves on their best.
COUNT_LUA = """
local function count(k, member, pair, points)
  local old = redis.call('HGET', KEYS[k + 3], member)
  redis.call('HINCRBY', KEYS[k + 1], pair, 1)
  if not old then
    redis.call('HINCRBY', KEYS[k], pair, 1)
    redis.call('HSET', KEYS[k + 3], member, points)
    redis.call('HINCRBY', KEYS[k + 2], pair, points)
  elseif tonumber(points) > tonumber(old) then
    redis.call('HSET', KEYS[k + 3], member, points)
    redis.call('HINCRBY', KEYS[k + 2], pair, tonumber(points) - tonumber(old))
  end
end
"""

# The contest-wide boards keep each person's best over the rounds (ZADD GT, on every replay as before: harmless);
# the counters move once per attempt id. Every key carries the contest's hash tag (one cluster slot). A board that
# holds a published order (scores below zero, leaderboard.final) takes the attempt in that layout (ARGV[9]).
CONTEST_LUA = (
    COUNT_LUA
    + """
local score = ARGV[3]
local low = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if low[2] and tonumber(low[2]) < 0 then score = ARGV[9] end
redis.call('ZADD', KEYS[2], 'GT', score, ARGV[2])
redis.call('ZADD', KEYS[3], 'GT', score, ARGV[2])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], 'GT', score, ARGV[2]) end
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
count(5, ARGV[2], ARGV[6], ARGV[5])
if ARGV[7] ~= '' then
  redis.call('HINCRBY', KEYS[11], ARGV[7], 1)
  if redis.call('SADD', KEYS[9], ARGV[8]) == 1 then redis.call('HINCRBY', KEYS[10], ARGV[7], 1) end
end
return 1
"""
)


def pair(commune: int, group: str) -> str:
    """The counters' field of one commune's contestants of one group."""
    return f"{commune}|{group}"


def split_pair(field: str) -> tuple[int, str]:
    commune, _, group = field.partition("|")
    return int(commune), group


def round_tally_keys(round_id: int) -> list[str]:
    """The round's counters the ranking script moves, in its KEYS order after the boards'."""
    tag = str(round_id)
    return [keys.tally(tag, m) for m in (keys.PAIR_PEOPLE, keys.PAIR_ATTEMPTS, keys.PAIR_BEST, keys.BEST)]


@dataclass(frozen=True)
class ContestCount:
    """What the contest's script needs of one scored attempt."""

    attempt_id: int
    contest_id: int
    contestant_id: int
    commune: int
    group: str
    points: int  # sixtieths of a question (scorecode.UNIT)
    score: int
    day: str  # the day it was started in Vietnam, "2026-12-04"
    # The same result in the published layout without a rank, for a board that holds a published order.
    unranked: int


async def queue_contest_count(r: aioredis.Redis, pipe: aioredis.client.Pipeline, a: ContestCount) -> None:
    """Add the contest's boards and counters for one attempt to a pipeline (its answer: 1 when newly counted)."""
    tag = f"c{a.contest_id}"
    script = r.register_script(CONTEST_LUA)
    await script(
        keys=[
            keys.contest_ranked(a.contest_id),
            keys.contest_board(a.contest_id),
            keys.contest_commune_board(a.contest_id, a.commune),
            keys.contest_group_board(a.contest_id, a.group),
            *(keys.tally(tag, m) for m in (keys.PAIR_PEOPLE, keys.PAIR_ATTEMPTS, keys.PAIR_BEST, keys.BEST)),
            keys.tally(tag, keys.DAY_SEEN),
            keys.tally(tag, keys.DAY_PEOPLE),
            keys.tally(tag, keys.DAY_ATTEMPTS),
        ],
        args=[
            a.attempt_id,
            a.contestant_id,
            a.score,
            a.group,
            a.points,
            pair(a.commune, a.group),
            f"{a.day}|{a.commune}" if a.day else "",
            f"{a.day}|{a.contestant_id}",
            a.unranked,
        ],
        client=pipe,
    )


async def count_registration(r: aioredis.Redis, contest_id: int, commune: int, group: str) -> None:
    """One more registration in the contest's counters. PostgreSQL has committed it: if Redis fails now, the
    registration stands and `contest leaderboards check` shows the drift that `rebuild` repairs."""
    try:
        await r.hincrby(keys.tally(f"c{contest_id}", keys.REGISTERED), pair(commune, group), 1)
    except RedisError:
        log.warning("registration not counted in Redis (contest %s): run `contest leaderboards rebuild`", contest_id)


Tally = dict[str, dict[str, int]]


async def read(r: aioredis.Redis, scope: str, measures: Iterable[str]) -> Tally:
    """Some counters of a scope ("12" a round, "c3" a contest): measure -> field -> count, in one round trip."""
    wanted = list(measures)
    async with r.pipeline(transaction=False) as pipe:
        for measure in wanted:
            pipe.hgetall(keys.tally(scope, measure))
        found = await pipe.execute()
    return {m: {_text(f): int(v) for f, v in got.items()} for m, got in zip(wanted, found, strict=True)}


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def by_commune(counts: dict[str, int]) -> dict[int, int]:
    """Sum the "commune|group" fields of a counter per commune."""
    out: dict[int, int] = {}
    for field_, n in counts.items():
        commune = split_pair(field_)[0]
        out[commune] = out.get(commune, 0) + n
    return out
