"""Boards in Redis: per round overall and per commune, plus participation counters per commune.

PostgreSQL holds every result; everything here can be rebuilt from it (`rebuild_round`).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from contest import keys
from contest.attempts.tables import Attempt
from contest.i18n import InputError
from contest.leaderboard import scorecode
from contest.people.phone import mask_phone
from contest.redis import async_redis

# Count an attempt once: the ranked set says whether it was counted before, so a replay changes nothing.
# ZADD GT keeps a person's best attempt.
_RANK_LUA = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[5], ARGV[4], 1)
if not redis.call('ZSCORE', KEYS[2], ARGV[2]) then redis.call('HINCRBY', KEYS[4], ARGV[4], 1) end
redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], 'GT', ARGV[3], ARGV[2])
return 1
"""


@dataclass(frozen=True)
class ScoredAttempt:
    attempt_id: int
    round_id: int
    contestant_id: int
    commune: int
    correct: int
    duration_ms: int
    submitted_after_open_s: int

    @property
    def score(self) -> int:
        return scorecode.encode(self.correct, self.duration_ms, self.submitted_after_open_s)


async def rank_attempts(r: aioredis.Redis, attempts: list[ScoredAttempt]) -> int:
    """Put scored attempts on the boards in one pipeline; returns how many were new."""
    if not attempts:
        return 0
    script = r.register_script(_RANK_LUA)
    async with r.pipeline(transaction=False) as pipe:
        for a in attempts:
            await script(
                keys=[
                    keys.ranked(a.round_id),
                    keys.board(a.round_id),
                    keys.commune_board(a.round_id, a.commune),
                    keys.people(a.round_id),
                    keys.attempts(a.round_id),
                ],
                args=[a.attempt_id, a.contestant_id, a.score, a.commune],
                client=pipe,
            )
        results = await pipe.execute()
    return sum(int(x) for x in results)


@dataclass(frozen=True)
class Standing:
    score: int
    rank: int
    of: int
    commune_rank: int
    commune_of: int

    @property
    def correct(self) -> int:
        return scorecode.decode(self.score)[0]

    @property
    def duration_ms(self) -> int:
        return scorecode.decode(self.score)[1]


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
    out: list[tuple[int, int, int]] = []
    for i, (member, score) in enumerate(rows):
        rank = out[-1][0] if out and out[-1][2] == int(score) else i + 1
        out.append((rank, int(member), int(score)))
    return out


async def participation(r: aioredis.Redis, round_id: int) -> dict[int, tuple[int, int]]:
    """Commune code -> (people, attempts) scored so far in the round."""
    async with r.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.people(round_id))
        pipe.hgetall(keys.attempts(round_id))
        people, attempts = await pipe.execute()
    return {int(c): (int(people.get(c, 0)), int(n)) for c, n in attempts.items()}


async def clear_round(r: aioredis.Redis, round_id: int) -> None:
    """Drop every key of a round (before a rebuild)."""
    for pattern in keys.round_pattern(round_id):
        async for key in r.scan_iter(match=pattern, count=1000):
            await r.delete(key)


@dataclass
class AttemptResult:
    attempt_id: int
    round_id: int
    contest_slug: str
    status: str
    correct: int | None
    total: int
    duration_ms: int | None
    auto_submitted: bool
    best: Standing | None
    commune_name: str
    attempts_left: int

    @property
    def ready(self) -> bool:
        return self.status == "scored" and self.best is not None


async def attempt_result(attempt_id: int, contestant_id: int) -> AttemptResult:
    """An attempt's score and time, and the contestant's best standing in the round once it is ranked."""
    rows = await Attempt.raw(
        "SELECT a.id, a.round, a.status, a.correct, a.total, a.duration_ms, a.auto_submitted, a.ranked_at, "
        "p.commune, m.name AS commune_name, c.slug, r.max_attempts, "
        "(SELECT count(*) FROM attempt x WHERE x.round = a.round AND x.contestant = a.contestant) AS used "
        "FROM attempt a JOIN contestant p ON p.id = a.contestant JOIN commune m ON m.code = p.commune "
        "JOIN round r ON r.id = a.round JOIN contest c ON c.id = r.contest WHERE a.id = {} AND a.contestant = {}",
        attempt_id,
        contestant_id,
    )
    if not rows:
        raise InputError({"attempt": "attempt_not_found"})
    a = rows[0]
    best = await standing(async_redis(), a["round"], contestant_id, a["commune"]) if a["ranked_at"] else None
    return AttemptResult(
        a["id"],
        a["round"],
        a["slug"],
        a["status"],
        a["correct"],
        a["total"],
        a["duration_ms"],
        a["auto_submitted"],
        best,
        a["commune_name"],
        max(0, a["max_attempts"] - a["used"]),
    )


@dataclass
class BoardRow:
    rank: int
    name: str
    phone: str
    commune: str
    correct: int
    duration_ms: int


@dataclass
class CommuneRow:
    code: int
    name: str
    people: int
    attempts: int


@dataclass
class BoardView:
    round_id: int
    round_title: str
    contest_slug: str
    contest_title: str
    commune: int | None
    rows: list[BoardRow]
    communes: list[CommuneRow]
    people: int


async def board_view(round_id: int, commune: int | None = None, n: int = 20) -> BoardView | None:
    """A public board: the best n (phones masked) and participation by commune, most people first."""
    rounds = await Attempt.raw(
        "SELECT r.id, r.title, c.slug, c.title AS contest_title FROM round r JOIN contest c ON c.id = r.contest WHERE r.id = {}",
        round_id,
    )
    if not rounds:
        return None
    r = async_redis()
    best = await top(r, round_id, n, commune)
    people = {
        row["id"]: row
        for row in await Attempt.raw(
            "SELECT p.id, p.full_name, p.phone, m.name AS commune FROM contestant p JOIN commune m ON m.code = p.commune "
            "WHERE p.id = ANY({})",
            [cid for _, cid, _ in best],
        )
    }
    rows = []
    for rank, cid, score in best:
        correct, duration, _ = scorecode.decode(score)
        p = people[cid]
        rows.append(BoardRow(rank, p["full_name"], mask_phone(p["phone"]), p["commune"], correct, duration))
    counts = await participation(r, round_id)
    names = {
        row["code"]: row["name"] for row in await Attempt.raw("SELECT code, name FROM commune WHERE code = ANY({})", list(counts))
    }
    communes = sorted(
        (CommuneRow(code, names.get(code, str(code)), p, a) for code, (p, a) in counts.items()),
        key=lambda c: (-c.people, -c.attempts, c.name),
    )
    info = rounds[0]
    return BoardView(
        round_id,
        info["title"],
        info["slug"],
        info["contest_title"],
        commune,
        rows,
        communes,
        sum(c.people for c in communes),
    )
