"""Scoring by real RQ workers: correct, once, and surviving a worker killed mid-batch."""

import os
import subprocess
import sys
import time

from contest import keys
from contest.attempts import finishing, starting
from contest.attempts.tables import Attempt
from contest.redis import async_redis
from contest.scoring.queue import kick
from tests.conftest import ROOT
from tests.factories import answer
from tests.processes import kill_tree


async def _submitted(case, n: int, correct: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    me = await case.contestant(n)
    attempt_id = await starting.start_attempt(me, case.round_id)
    await answer(attempt_id, me, correct)
    await finishing.submit(attempt_id, me)
    return me, attempt_id


async def test_a_worker_scores_submitted_attempts_against_the_server_side_key(new_round, worker) -> None:
    case = await new_round(per_topic=2)
    done = [await _submitted(case, n, correct) for n, correct in ((1, 8), (2, 5), (3, 0))]
    await kick()
    worker()
    rows = {r["id"]: r for r in await Attempt.select().where(Attempt.round == case.round_id)}
    assert [rows[a]["correct"] for _, a in done] == [8, 5, 0]
    assert all(rows[a]["status"] == "scored" and rows[a]["ranked_at"] is not None for _, a in done)


async def test_unanswered_questions_score_nothing(new_round, worker) -> None:
    case = await new_round()
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    await finishing.submit(attempt_id, me)
    await kick()
    worker()
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert (row["status"], row["correct"]) == ("scored", 0)


async def test_an_auto_submitted_attempt_is_scored_by_the_sweep(new_round, clock, worker) -> None:
    case = await new_round(time_limit=120)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    await answer(attempt_id, me, 3)
    clock.advance(seconds=200)
    await finishing.close_expired()
    from contest.scoring.queue import scoring_queue

    scoring_queue().enqueue("contest.scoring.jobs.sweep")
    worker()
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert (row["status"], row["correct"], row["auto_submitted"]) == ("scored", 3, True)


async def test_an_attempt_submitted_while_the_queue_was_lost_is_still_scored(new_round, worker) -> None:
    """The app died between its commit and the enqueue: the sweep finds the attempt in PostgreSQL."""
    case = await new_round()
    _, attempt_id = await _submitted(case, 1, 2)  # submitted, but nobody kicked a job
    from contest.scoring.queue import scoring_queue

    scoring_queue().enqueue("contest.scoring.jobs.sweep")
    worker()
    assert (await Attempt.select(Attempt.status).where(Attempt.id == attempt_id).first())["status"] == "scored"


async def test_a_worker_killed_mid_batch_leaves_every_attempt_to_be_scored_once(new_round, worker) -> None:
    import asyncpg

    from contest.settings import get_settings

    case = await new_round()
    done = [await _submitted(case, n, n) for n in range(1, 5)]
    ids = [a for _, a in done]
    # Hold the worker inside its scoring transaction: it claims the batch, then waits on this lock.
    blocker = await asyncpg.connect(get_settings().db.url)
    observer = await asyncpg.connect(get_settings().db.url)  # outside a transaction: fresh activity stats
    tx = blocker.transaction()
    await tx.start()
    await blocker.execute("LOCK TABLE attempt IN SHARE MODE")
    proc = subprocess.Popen(
        [sys.executable, "-m", "contest.cli", "worker"],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await kick()
        deadline = time.monotonic() + 30
        while True:
            waiting = await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%UPDATE attempt a SET%'"
            )
            if waiting:
                break
            assert time.monotonic() < deadline, "the worker never reached its scoring UPDATE"
            time.sleep(0.05)
        kill_tree(proc)  # the worker and its work horse die mid-batch
    finally:
        kill_tree(proc)
        await tx.rollback()
        await blocker.close()
        await observer.close()
    statuses = {r["status"] for r in await Attempt.select(Attempt.status).where(Attempt.id.is_in(ids))}
    assert statuses == {"submitted"}
    from contest.scoring.queue import scoring_queue

    scoring_queue().enqueue("contest.scoring.jobs.sweep")
    worker()
    worker()  # a second pass finds nothing more to do
    rows = {r["id"]: r for r in await Attempt.select().where(Attempt.id.is_in(ids))}
    assert [rows[a]["correct"] for a in ids] == [1, 2, 3, 4]
    r = async_redis()
    assert int(await r.hget(keys.attempts(case.round_id), "11560")) == 4
    assert await r.scard(keys.ranked(case.round_id)) == 4


async def test_ranking_the_same_attempts_again_counts_nothing_twice(new_round, worker) -> None:
    import asyncpg

    from contest.scoring.service import rank_ids
    from contest.settings import get_settings

    case = await new_round()
    ids = [(await _submitted(case, n, 2))[1] for n in (1, 2)]
    await kick()
    worker()
    r = async_redis()
    before = await r.hgetall(keys.attempts(case.round_id)), await r.hgetall(keys.people(case.round_id))
    conn = await asyncpg.connect(get_settings().db.url)
    try:
        assert await rank_ids(conn, r, ids) == 0
    finally:
        await conn.close()
    assert (await r.hgetall(keys.attempts(case.round_id)), await r.hgetall(keys.people(case.round_id))) == before
    assert before == ({"11560": "2"}, {"11560": "2"})


async def test_a_long_peak_is_scored_in_bounded_jobs_that_hand_over(new_round) -> None:
    import asyncpg

    from contest.scoring.service import score_pending
    from contest.settings import get_settings

    case = await new_round()
    for n in (1, 2, 3):
        await _submitted(case, n, 1)
    conn = await asyncpg.connect(get_settings().db.url)
    try:
        first = await score_pending(conn, async_redis(), batch=1, max_seconds=0)
        rest = await score_pending(conn, async_redis(), batch=1000)
    finally:
        await conn.close()
    assert (first.scored, first.more) == (1, True)
    assert rest.scored >= 2 and not rest.more
    statuses = await Attempt.select(Attempt.status).where(Attempt.round == case.round_id)
    assert {s["status"] for s in statuses} == {"scored"}
