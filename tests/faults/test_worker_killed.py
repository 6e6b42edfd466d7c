"""kill -9 of scoring workers mid-run: every submitted attempt is still scored, and scored once."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
from rq import Queue

from contest import keys
from contest.leaderboard.rebuild import check_contest, check_round
from contest.redis import async_redis, sync_redis
from contest.scoring.service import rerank_stale
from contest.settings import get_settings
from loadtests.bench_scoring import seed
from tests.conftest import run_worker
from tests.processes import kill_tree

ATTEMPTS, CONTESTANTS = 6000, 3000

# Independent of the scoring statement: an item is right when its choice is the question's correct option.
_WRONGLY_SCORED = """
SELECT count(*) FROM attempt a WHERE a.round = $1 AND a.correct IS DISTINCT FROM (
    SELECT count(*) FROM attempt_item i
    WHERE i.attempt = a.id AND i.chosen = (SELECT o.id FROM option o WHERE o.question = i.question AND o.is_correct))
"""


async def _scored(conn: asyncpg.Connection, round_id: int) -> int:
    return await conn.fetchval("SELECT count(*) FROM attempt WHERE round = $1 AND status = 'scored'", round_id)


async def _wait_for(conn: asyncpg.Connection, round_id: int, at_least: int, timeout: float = 90) -> int:
    deadline = time.monotonic() + timeout
    while (done := await _scored(conn, round_id)) < at_least:
        assert time.monotonic() < deadline, f"scoring stalled at {done}/{at_least}"
        time.sleep(0.02)
    return done


async def _wait_for_locked(conn: asyncpg.Connection, statement: str, n: int = 1) -> None:
    """Until n sessions wait for a lock in a statement that starts with `statement`."""
    deadline = time.monotonic() + 30
    sql = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND ltrim(query, E' \\n') LIKE $1"
    while await conn.fetchval(sql, statement + "%") < n:
        assert time.monotonic() < deadline, f"nobody got stuck in {statement!r}"
        time.sleep(0.01)


async def test_workers_killed_mid_batch_leave_every_attempt_scored_exactly_once(processes, transitions, clock) -> None:
    settings = get_settings()
    conn = await asyncpg.connect(settings.db.url)  # outside a transaction: fresh activity stats
    lock_option, lock_attempt = await asyncpg.connect(settings.db.url), await asyncpg.connect(settings.db.url)
    try:
        s = await seed(conn, ATTEMPTS, CONTESTANTS)
        ids = [row["id"] for row in await conn.fetch("SELECT id FROM attempt WHERE round = $1", s.round_id)]
        assert len(ids) == s.attempts == ATTEMPTS
        # Three bursts of submits queue three jobs; three workers take them and share the attempts (SKIP LOCKED).
        queue = Queue(keys.QUEUE_SCORING, connection=sync_redis())
        for _ in range(3):
            queue.enqueue("contest.scoring.jobs.score_submitted", job_timeout=600, result_ttl=60)
        env = processes.env(CONTEST_SCORING_BATCH="100")
        # The three start together: held at their first batch until all three are in one. (A worker that started
        # a second earlier than the others could otherwise score all 6,000 alone, on a quiet machine, before the
        # steps below: nobody would be left to get stuck.)
        option_tx = lock_option.transaction()
        await option_tx.start()
        await lock_option.execute("LOCK TABLE option IN ACCESS EXCLUSIVE MODE")
        first, second, third = (processes.spawn("worker", "worker", env=env) for _ in range(3))
        await _wait_for_locked(conn, "UPDATE attempt a SET status = 'scored'", 3)
        await option_tx.rollback()

        # 1. One worker dies wherever it happens to be: in a batch's transaction, in Redis, between the two.
        await _wait_for(conn, s.round_id, ATTEMPTS // 6)
        kill_tree(first)
        # 2. The two others carry on, until a lock taken here at once (thousands of attempts are left) holds both
        #    inside a batch: rows claimed, the scoring UPDATE waiting to read the options. One of them dies there.
        option_tx = lock_option.transaction()
        await option_tx.start()
        await lock_option.execute("LOCK TABLE option IN ACCESS EXCLUSIVE MODE")
        await _wait_for_locked(conn, "UPDATE attempt a SET status = 'scored'", 2)
        kill_tree(second)
        # 3. The last one commits its batch, writes Redis, and dies before recording that it did (ranked_at).
        attempt_tx = lock_attempt.transaction()
        await attempt_tx.start()
        share = asyncio.create_task(lock_attempt.execute("LOCK TABLE attempt IN SHARE MODE"))
        await _wait_for_locked(conn, "LOCK TABLE attempt")
        await option_tx.rollback()
        await _wait_for_locked(conn, "UPDATE attempt SET ranked_at")
        kill_tree(third)
        await share
        await attempt_tx.rollback()
        assert first.returncode == second.returncode == third.returncode == -9

        # Killed mid-run: some attempts still wait; some were scored but never ranked, or ranked in Redis only.
        waiting = await conn.fetchval("SELECT count(*) FROM attempt WHERE round = $1 AND status = 'submitted'", s.round_id)
        assert 0 < waiting < ATTEMPTS
        unranked = await conn.fetch(
            "SELECT id FROM attempt WHERE round = $1 AND status = 'scored' AND ranked_at IS NULL", s.round_id
        )
        r = async_redis()
        off_the_boards = [row["id"] for row in unranked if not await r.sismember(keys.ranked(s.round_id), str(row["id"]))]

        # 4. A fresh worker runs the sweep: it scores what was left 'submitted'.
        queue.enqueue("contest.scoring.jobs.sweep", job_timeout=600, result_ttl=60)
        run_worker(timeout=120)
        # The sweep re-ranks what a dead worker scored but never ranked once it is 30 s old: move the clock.
        clock.current = datetime.now(UTC) + timedelta(seconds=31)
        assert await rerank_stale(conn, r, timedelta(seconds=30), clock.current) >= len(off_the_boards)

        final = await conn.fetchrow(
            "SELECT count(*) FILTER (WHERE status <> 'scored') AS not_scored, "
            "count(*) FILTER (WHERE ranked_at IS NULL) AS not_ranked FROM attempt WHERE round = $1",
            s.round_id,
        )
        assert dict(final) == {"not_scored": 0, "not_ranked": 0}
        assert await conn.fetchval(_WRONGLY_SCORED, s.round_id) == 0
        # Exactly one committed change to 'scored' per attempt: a killed batch left no trace, none was scored twice.
        assert await transitions(ids) == {(attempt, "scored"): 1 for attempt in ids}

        # Redis counted each attempt once: every key equals a recount from PostgreSQL.
        assert sum(map(int, await r.hvals(keys.attempts(s.round_id)))) == ATTEMPTS
        assert await r.scard(keys.ranked(s.round_id)) == ATTEMPTS
        assert sum(map(int, await r.hvals(keys.people(s.round_id)))) == s.contestants
        assert await r.zcard(keys.board(s.round_id)) == s.contestants
        for report in (await check_round(s.round_id), await check_contest(s.contest_id)):
            assert report.ok and report.unranked == 0, "\n".join(report.lines())
    finally:
        for c in (lock_attempt, lock_option, conn):
            await c.close()
