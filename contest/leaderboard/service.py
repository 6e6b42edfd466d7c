"""Boards in Redis: per round overall and per commune, plus participation counters per commune.

PostgreSQL holds every result; everything here can be rebuilt from it (`rebuild_round`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from contest import clock, keys
from contest.attempts.tables import Attempt
from contest.i18n import InputError
from contest.leaderboard import scorecode
from contest.leaderboard.collective import collective
from contest.leaderboard.scope import Scope, round_scope
from contest.people.phone import mask_phone, short_name
from contest.people.tables import GROUPS
from contest.redis import async_redis

# Count an attempt once: the ranked set says whether it was counted before, so a replay changes nothing.
# ZADD GT keeps a person's best attempt. The contestant's group boards and counters come with the
# commune's. Every key is the round's (one hash tag, one cluster slot: see keys).
_RANK_LUA = """
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
return 1
"""

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
    correct: int
    duration_ms: int
    submitted_after_open_s: int
    # The contestant's group ("" leaves the group boards alone) and the round's contest (0: no contest boards).
    group: str = ""
    contest_id: int = 0

    @property
    def score(self) -> int:
        return scorecode.encode(self.correct, self.duration_ms, self.submitted_after_open_s)


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
                ],
                args=[a.attempt_id, a.contestant_id, a.score, a.commune, a.group],
                client=pipe,
            )
            if a.contest_id:
                # The contest-wide boards keep the best over every round: each result is final once scored, so
                # these run on every replay (a retry after a failure here puts back what the ranked set skips).
                best = {str(a.contestant_id): a.score}
                pipe.zadd(keys.contest_board(a.contest_id), best, gt=True)
                pipe.zadd(keys.contest_commune_board(a.contest_id, a.commune), best, gt=True)
                if a.group:
                    pipe.zadd(keys.contest_group_board(a.contest_id, a.group), best, gt=True)
        results = await pipe.execute()
    return sum(int(results[i]) for i in counted)


@dataclass(frozen=True)
class Place:
    """One contestant's place on one board."""

    score: int
    rank: int
    of: int

    @property
    def correct(self) -> int:
        return scorecode.decode(self.score)[0]

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
        "p.commune, m.name AS commune_name, c.slug, r.max_attempts, r.closes_at, "
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
        # No retake is offered once the round has closed.
        max(0, a["max_attempts"] - a["used"]) if clock.now() < a["closes_at"] else 0,
    )


def view_filter(commune: int | None, group: str | None) -> tuple[int | None, str | None, str]:
    """One view of a board at a time (a commune's, else a known group's, else everyone's), and its cache name."""
    if commune is not None:
        return commune, None, f"c{commune}"
    if group in GROUPS:
        return None, group, f"g{group}"
    return None, None, "all"


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
class GroupRow:
    group: str
    people: int
    attempts: int


@dataclass
class BoardView:
    round_id: int | None
    round_title: str
    contest_slug: str
    contest_title: str
    commune: int | None
    rows: list[BoardRow]
    communes: list[CommuneRow]
    people: int
    group: str | None = None
    groups: list[GroupRow] = field(default_factory=list)
    total: int = 0
    commune_name: str = ""
    scope: Scope | None = None


async def public_rows(best: list[tuple[int, int, int]]) -> list[BoardRow]:
    """Board rows for the public: short names and masked phones only, never what identifies a person."""
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
        rows.append(BoardRow(rank, short_name(p["full_name"]), mask_phone(p["phone"]), p["commune"], correct, duration))
    return rows


async def board_rows(scope: Scope, commune: int | None, group: str | None, n: int = 20) -> tuple[list[BoardRow], int]:
    """The best n of one view of a scope, for the public, and how many are on that board."""
    best, total, _ = await top_and_rank(async_redis(), scope.key(commune, group), n)
    return await public_rows(best), total


async def board_view(round_id: int, commune: int | None = None, n: int = 20, group: str | None = None) -> BoardView | None:
    """A public round board: the best n (short names, masked phones) and participation by commune and group."""
    scope = await round_scope(round_id)
    return await scope_view(scope, commune, group, n) if scope else None


async def scope_view(scope: Scope, commune: int | None = None, group: str | None = None, n: int = 20) -> BoardView:
    """A public board of a round or a contest, one view of it, with participation by commune and group."""
    commune, group, _ = view_filter(commune, group)
    # n = 0: the caller shows the top from the shared live fragment and needs only the counts.
    rows, total = await board_rows(scope, commune, group, n) if n > 0 else ([], 0)
    if scope.round_id is not None:
        r = async_redis()
        counts = await participation(r, scope.round_id)
        by_group = await group_participation(r, scope.round_id)
    else:
        ranking = await collective(scope)
        counts = {c.code: (c.people, c.attempts) for c in ranking.communes if c.people}
        by_group = {g.code: (g.people, g.attempts) for g in ranking.groups if g.people}
    names = {
        row["code"]: row["name"]
        for row in await Attempt.raw(
            "SELECT code, name FROM commune WHERE code = ANY({})", [*counts, *([commune] if commune is not None else [])]
        )
    }
    communes = sorted(
        (CommuneRow(code, names.get(code, str(code)), p, a) for code, (p, a) in counts.items()),
        key=lambda c: (-c.people, -c.attempts, c.name),
    )
    groups = sorted((GroupRow(g, p, a) for g, (p, a) in by_group.items()), key=lambda g: (-g.people, -g.attempts, g.group))
    return BoardView(
        scope.round_id,
        scope.round_title,
        scope.contest_slug,
        scope.contest_title,
        commune,
        rows,
        communes,
        sum(c.people for c in communes),
        group,
        groups,
        total,
        names.get(commune, "") if commune is not None else "",
        scope,
    )


@dataclass
class MyPlaces:
    """A contestant's own places on a scope's boards: everyone's, their commune's, their group's."""

    name: str
    phone: str
    commune_name: str
    group: str
    overall: Place | None
    in_commune: Place | None
    in_group: Place | None


async def my_places(scope: Scope, contestant_id: int) -> MyPlaces | None:
    """Where one contestant of the scope's contest stands (None when they are not registered in it)."""
    rows = await Attempt.raw(
        'SELECT p.full_name, p.phone, p.commune, p."group", m.name AS commune_name '
        "FROM contestant p JOIN commune m ON m.code = p.commune WHERE p.id = {} AND p.contest = {}",
        contestant_id,
        scope.contest_id,
    )
    if not rows:
        return None
    p = rows[0]
    r = async_redis()
    return MyPlaces(
        short_name(p["full_name"]),
        mask_phone(p["phone"]),
        p["commune_name"],
        p["group"],
        await place_on(r, scope.key(), contestant_id),
        await place_on(r, scope.key(commune=p["commune"]), contestant_id),
        await place_on(r, scope.key(group=p["group"]), contestant_id),
    )


async def cached_text(key: str, seconds: float, make: Callable[[], Awaitable[str]]) -> str:
    """A text shared by every viewer for a few seconds: under a crowd, one computation per interval."""
    r = async_redis()
    text = await r.get(key)
    if text is None:
        text = await make()
        await r.set(key, text, px=int(seconds * 1000))
    return str(text)
