"""Redis is a cache of PostgreSQL: rebuild a round's keys from the truth, or check them against it.

`check_round` recomputes what every key of a round should hold (boards, commune boards, the
participation counters, the ranked set) from scored attempts and reports each difference; it
never writes. `rebuild_round` drops the round's keys and ranks every scored attempt again.
A round whose results are published has its boards in the published order (leaderboard.final): the
rebuild puts that order back and the check compares against it.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import redis.asyncio as aioredis

from contest import keys
from contest.digits import is_digits
from contest.leaderboard import scorecode
from contest.leaderboard.boards import clear_contest, clear_round
from contest.leaderboard.final import contest_boards, final_boards, published, recount_contest, show_final_order
from contest.leaderboard.recount import (
    Expected,
    add,
    expected_contest_counters,
    round_counters,
    round_rows,
)
from contest.redis import async_redis, close_async_redis
from contest.scoring.service import rank_ids
from contest.settings import get_settings


async def _connect() -> asyncpg.Connection:
    return await asyncpg.connect(get_settings().db.url)


def _progress(text: str) -> None:
    print(f"\r  {text}", end="", file=sys.stderr, flush=True)


async def rounds_with_scores(conn: asyncpg.Connection | None = None) -> list[int]:
    """Every round with at least one scored attempt (previews aside), oldest first."""
    own = conn is None
    conn = conn or await _connect()
    try:
        rows = await conn.fetch("SELECT DISTINCT round FROM attempt WHERE status = 'scored' AND NOT preview ORDER BY round")
    finally:
        if own:
            await conn.close()
    return [row["round"] for row in rows]


async def rebuild_round(round_id: int, chunk: int = 5000, quiet: bool = False) -> str:
    """Drop the round's keys and rank every scored attempt again, in chunks; recount its contest's counters."""
    r = async_redis()
    await clear_round(r, round_id)
    conn = await _connect()
    try:
        ids = [
            row["id"]
            for row in await conn.fetch("SELECT id FROM attempt WHERE round = $1 AND status = 'scored' ORDER BY id", round_id)
        ]
        ranked = 0
        for start in range(0, len(ids), chunk):
            ranked += await rank_ids(conn, r, ids[start : start + chunk])
            if not quiet:
                _progress(f"round {round_id}: {min(start + chunk, len(ids))}/{len(ids)} attempts")
        if not quiet and ids:
            print(file=sys.stderr)
        if await published(conn, round_id):
            await show_final_order(round_id, conn)
        # Its contest's boards and counters skip nothing and forget nothing by ranking again: a recount.
        contest_id = await conn.fetchval("SELECT contest FROM round WHERE id = $1", round_id)
        if contest_id is not None:
            await recount_contest(conn, r, contest_id)
    finally:
        await conn.close()
    return f"round {round_id}: {ranked} attempts ranked from PostgreSQL"


async def _scored_rounds_and_contests() -> tuple[list[int], list[int]]:
    """Every round with scored attempts, and the contests they belong to or that have registrations."""
    conn = await _connect()
    try:
        rounds = await rounds_with_scores(conn)
        # Contests with registrations count too (their registration counters), scored or not.
        rows = await conn.fetch(
            "SELECT contest FROM round WHERE id = ANY($1) UNION SELECT contest FROM contestant WHERE NOT preview ORDER BY 1",
            rounds,
        )
    finally:
        await conn.close()
    return rounds, [row["contest"] for row in rows]


async def rebuild(round_id: int | None = None, quiet: bool = False) -> list[str]:
    """Rebuild one round, or every round with scored attempts (and the contest-wide boards); one line per round."""
    if round_id is not None:
        # The contest-wide boards keep the best of every round (ZADD GT): this round's results go back on them.
        return [await rebuild_round(round_id, quiet=quiet)]
    rounds, contests = await _scored_rounds_and_contests()
    r = async_redis()
    for contest_id in contests:
        await clear_contest(r, contest_id)
    lines = [await rebuild_round(rid, quiet=quiet) for rid in rounds]
    # Ranking again counted every attempt; the recount adds registrations and leaves out the disqualified.
    conn = await _connect()
    try:
        for contest_id in contests:
            await recount_contest(conn, r, contest_id)
    finally:
        await conn.close()
    return lines


async def ensure_layout() -> list[str]:
    """Rebuild every board once when Redis holds scores in an older layout than scorecode's (after an upgrade); for a
    command of its own process (`contest migrate`): it closes the shared client."""
    r = async_redis()
    try:
        if await r.get(keys.SCORE_LAYOUT) == str(scorecode.LAYOUT):
            return []
        done = await rebuild(quiet=True)
        await r.set(keys.SCORE_LAYOUT, scorecode.LAYOUT)
        return done
    finally:
        await close_async_redis()


# --- Checking Redis against PostgreSQL ------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One way a key differs from what PostgreSQL says it should hold."""

    key: str
    problem: str  # missing_key, extra_key, wrong_type, missing, extra, wrong
    member: str = ""
    expected: object = None
    actual: object = None

    def __str__(self) -> str:
        if self.problem in ("missing_key", "extra_key", "wrong_type"):
            return f"{self.key}: {self.problem.replace('_', ' ')}" + (f" ({self.actual})" if self.actual else "")
        return f"{self.key} [{self.member}]: {self.problem}, expected {self.expected}, found {self.actual}"


@dataclass
class RoundCheck:
    """What the check found for one round's keys (or a contest's boards)."""

    scope: str  # "round 12", "contest 3"
    keys_checked: int = 0
    attempts: int = 0
    # Scored but not ranked yet (a worker between commit and Redis): the sweep ranks them.
    unranked: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        head = f"{self.scope}: {self.keys_checked} keys, {self.attempts} scored attempts, "
        head += "matches PostgreSQL" if self.ok else f"{len(self.differences)} differences"
        if self.unranked:
            head += f" ({self.unranked} attempts scored but not ranked yet)"
        return [head, *(f"  {d}" for d in self.differences)]


def _best(expected: Expected, key: str, member: str, score: int) -> None:
    board = expected.setdefault(key, ("zset", {}))[1]
    assert isinstance(board, dict)
    board[member] = max(board.get(member, score), score)


def _score(row: asyncpg.Record) -> int:
    return scorecode.encode(row["points"] or 0, row["duration_ms"] or 0, row["after_open"])


async def expected_round(conn: asyncpg.Connection, round_id: int) -> tuple[Expected, int, int]:
    """What every Redis key of the round should hold; also (scored attempts, of which not yet ranked)."""
    rows = await round_rows(conn, round_id)
    expected: Expected = round_counters(round_id, rows)
    for row in rows:
        member, commune, group = str(row["contestant"]), row["commune"], row["group"] or ""
        add(expected, keys.ranked(round_id), str(row["id"]))
        _best(expected, keys.board(round_id), member, _score(row))
        _best(expected, keys.commune_board(round_id, commune), member, _score(row))
        if group:  # the scoring script leaves group boards alone for a contestant without a group
            _best(expected, keys.group_board(round_id, group), member, _score(row))
    if await published(conn, round_id):
        # The published order replaces the provisional boards (the ranked set stays as scored).
        expected = {k: v for k, v in expected.items() if not k.startswith("board:")}
        expected.update({key: ("zset", board) for key, board in (await final_boards(conn, round_id)).items()})
    return expected, len(rows), sum(1 for row in rows if not row["ranked"])


async def expected_contest(conn: asyncpg.Connection, contest_id: int) -> tuple[Expected, int, int]:
    """What the contest-wide boards and counters should hold: each person's best over every round of the contest
    (leaving out the published results of people disqualified in a round), participation and registrations."""
    expected, scored, unranked = await expected_contest_counters(conn, contest_id)
    expected.update({key: ("zset", board) for key, board in (await contest_boards(conn, contest_id)).items()})
    return expected, scored, unranked


async def _actual_keys(r: aioredis.Redis, patterns: list[str], skip: str) -> set[str]:
    """The keys matching the patterns, less the short-lived rendering caches (`skip`), which hold no results."""
    found: set[str] = set()
    for pattern in patterns:
        async for key in r.scan_iter(match=pattern, count=1000):
            key = key if isinstance(key, str) else key.decode()
            if not fnmatch.fnmatchcase(key, skip):
                found.add(key)
    return found


async def _type(r: aioredis.Redis, key: str) -> str:
    found = await r.type(key)
    return found if isinstance(found, str) else found.decode()


async def _read(r: aioredis.Redis, key: str, kind: str) -> dict[str, int] | set[str] | None:
    """A key's content in the shape `kind`, or None when Redis holds another type."""
    if await _type(r, key) != kind:
        return None
    if kind == "zset":
        rows: list[tuple[str, float]] = await r.zrange(key, 0, -1, withscores=True)  # type: ignore[assignment]
        return {str(m): int(s) for m, s in rows}
    if kind == "hash":
        return {str(f): int(v) for f, v in (await r.hgetall(key)).items()}  # type: ignore[misc]
    return {str(m) for m in await r.smembers(key)}  # type: ignore[misc]


def _compare(key: str, want: dict[str, int] | set[str], got: dict[str, int] | set[str]) -> list[Difference]:
    out: list[Difference] = []
    if isinstance(want, set) or isinstance(got, set):
        out += [Difference(key, "missing", m) for m in sorted(set(want) - set(got), key=_natural)]
        out += [Difference(key, "extra", m) for m in sorted(set(got) - set(want), key=_natural)]
        return out
    for member in sorted(set(want) | set(got), key=_natural):
        if member not in got:
            out.append(Difference(key, "missing", member, want[member], None))
        elif member not in want:
            out.append(Difference(key, "extra", member, None, got[member]))
        elif want[member] != got[member]:
            out.append(Difference(key, "wrong", member, want[member], got[member]))
    return out


def _natural(member: str) -> tuple[int, str]:
    return (int(member), "") if is_digits(member) else (0, member)


async def _differences(r: aioredis.Redis, expected: Expected, actual: set[str]) -> list[Difference]:
    out: list[Difference] = []
    for key in sorted(actual | set(expected)):
        if key not in expected:
            out.append(Difference(key, "extra_key", actual=await _type(r, key)))
        elif key not in actual:
            out.append(Difference(key, "missing_key"))
        else:
            kind, want = expected[key]
            got = await _read(r, key, kind)
            if got is None:
                out.append(Difference(key, "wrong_type", expected=kind, actual=await _type(r, key)))
            else:
                out += _compare(key, want, got)
    return out


async def _check(
    scope: str, load: Callable[[asyncpg.Connection], Awaitable[tuple[Expected, int, int]]], patterns: list[str], skip: str
) -> RoundCheck:
    r = async_redis()
    conn = await _connect()
    try:
        expected, scored, unranked = await load(conn)
    finally:
        await conn.close()
    actual = await _actual_keys(r, patterns, skip)
    return RoundCheck(scope, len(actual | set(expected)), scored, unranked, await _differences(r, expected, actual))


async def check_round(round_id: int) -> RoundCheck:
    """Compare every Redis key of a round with what PostgreSQL says; changes nothing."""
    return await _check(
        f"round {round_id}",
        lambda conn: expected_round(conn, round_id),
        keys.round_pattern(round_id),
        keys.board_fragment(str(round_id), "*"),
    )


async def check_contest(contest_id: int) -> RoundCheck:
    """Compare the contest-wide boards with the best result of each person over the contest's rounds."""
    return await _check(
        f"contest {contest_id}",
        lambda conn: expected_contest(conn, contest_id),
        keys.contest_pattern(contest_id),
        keys.board_fragment(f"c{contest_id}", "*"),
    )


async def check(round_id: int | None = None) -> list[RoundCheck]:
    """Check one round, or every round with scored attempts and the contest-wide boards of their contests."""
    if round_id is not None:
        return [await check_round(round_id)]
    rounds, contests = await _scored_rounds_and_contests()
    return [*[await check_round(rid) for rid in rounds], *[await check_contest(cid) for cid in contests]]
