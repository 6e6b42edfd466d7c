"""Group commit over several web processes: another process's write may lock the same rows in the opposite order."""

from __future__ import annotations

import asyncio
import time

import asyncpg

from contest.attempts import answering, starting
from contest.settings import get_settings
from tests.factories import answer_key

_LOCK = "UPDATE attempt_item SET answered_at = answered_at WHERE attempt = $1 AND position = $2"
_PROBE = "SELECT 1 FROM attempt_item WHERE attempt = $1 AND position = $2 FOR UPDATE NOWAIT"
_GROUP_WAITS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
    "AND query LIKE '%UPDATE attempt_item i%'"
)


async def _held_by_the_group(watch: asyncpg.Connection, attempt_id: int, position: int) -> bool:
    try:
        await watch.fetch(_PROBE, attempt_id, position)
    except asyncpg.LockNotAvailableError:
        return True
    return False


async def _cross(other: asyncpg.Connection, watch: asyncpg.Connection, attempt_id: int, me: int, hold_first: bool) -> bool:
    """The other process holds one of two rows; one group saves both. Returns whether the locks crossed."""
    key = await answer_key(attempt_id)
    held, free = (1, 2) if hold_first else (2, 1)
    crossing = other.transaction()
    await crossing.start()
    await other.execute(_LOCK, attempt_id, held)
    saves = asyncio.gather(*(answering.save_answer(attempt_id, me, p, key[p][0]) for p in (1, 2)))
    deadline = time.monotonic() + 10
    while not await watch.fetchval(_GROUP_WAITS):
        assert time.monotonic() < deadline, "the group never waited for the other's row"
        await asyncio.sleep(0.02)
    # The plan decides the order the group locks rows in: it crosses only if it took the free row first.
    crossed = await _held_by_the_group(watch, attempt_id, free)
    if crossed:
        # The other now wants that row: PostgreSQL finds the cycle and aborts one side. Usually the group, which
        # writes again; on a busy machine its deadlock check may pick the other process instead.
        try:
            await other.execute(_LOCK, attempt_id, free)
        except asyncpg.DeadlockDetectedError:
            await crossing.rollback()
            crossing = None
    if crossing is not None:
        await crossing.commit()
    await asyncio.wait_for(saves, 20)
    rows = await watch.fetch("SELECT position, chosen FROM attempt_item WHERE attempt = $1 AND position <= 2", attempt_id)
    assert {row["position"]: row["chosen"] for row in rows} == {1: key[1][0], 2: key[2][0]}
    return crossed


async def test_answers_deadlocked_with_another_process_are_saved_all_the_same(new_round) -> None:
    case = await new_round()
    # The other web process's group as PostgreSQL sees it, and a connection that watches outside any transaction
    # (inside one, the statistics views would stay as they were at its start).
    other, watch = await asyncpg.connect(get_settings().db.url), await asyncpg.connect(get_settings().db.url)
    try:
        crossed = False
        for n in range(1, 7):
            me = await case.contestant(n)
            crossed = await _cross(other, watch, await starting.start_attempt(me, case.round_id), me, hold_first=n % 2 == 0)
            if crossed:
                break
        assert crossed, "no plan ever locked the rows in crossed order"
    finally:
        await other.close()
        await watch.close()
