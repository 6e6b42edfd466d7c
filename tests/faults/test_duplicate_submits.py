"""10,000 submits of the same attempts at once (double taps, retries, a flaky network): one submit, one scoring each."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

from rq import Queue

from contest import keys
from contest.api.auth import issue
from contest.attempts import finishing, starting
from contest.attempts.tables import Attempt
from contest.leaderboard.rebuild import check_round
from contest.redis import async_redis, sync_redis
from contest.scoring.queue import kick
from tests.conftest import run_worker
from tests.factories import HAI_PHONG_COMMUNES, answer

PEOPLE, SUBMITS, OVER_HTTP, AT_ONCE = 20, 10_000, 1_000, 200


async def test_ten_thousand_duplicate_submits_are_one_submit_and_one_scoring_per_attempt(
    new_round, client, processes, transitions
) -> None:
    case = await new_round(per_topic=1)  # 4 questions
    taking: dict[int, tuple[int, int]] = {}  # attempt -> (contestant, correct)
    for n in range(PEOPLE):
        me = await case.contestant(n, HAI_PHONG_COMMUNES[n % 2])
        attempt_id = await starting.start_attempt(me, case.round_id)
        await answer(attempt_id, me, n % 5)
        taking[attempt_id] = (me, n % 5)
    ids = list(taking)
    # A worker already running, as in production: it scores while the duplicates keep coming.
    processes.spawn("worker", "worker")

    calls = [ids[i % PEOPLE] for i in range(SUBMITS)]
    random.shuffle(calls)
    gate = asyncio.Semaphore(AT_ONCE)

    async def through_service(attempt_id: int) -> tuple[int, bool]:
        async with gate:
            done = await finishing.submit(attempt_id, taking[attempt_id][0])
            if done.first:
                await kick()  # what both submit routes do
            return attempt_id, done.first

    async def over_http(attempt_id: int) -> tuple[int, bool]:
        async with gate:
            auth = {"authorization": f"Bearer {issue(taking[attempt_id][0])}"}
            # The app sends the prediction with every submit, retries included.
            done = await client.post(f"/api/v1/attempts/{attempt_id}/submit", headers=auth, json={"prediction": 1500})
            assert done.status_code == 200 and done.json()["status"] in ("submitted", "scored"), done.text
            return attempt_id, False  # a first submit over HTTP is counted by the trigger below

    began = time.monotonic()
    results = await asyncio.gather(
        *(over_http(a) if i % (SUBMITS // OVER_HTTP) == 0 else through_service(a) for i, a in enumerate(calls)),
    )
    took = time.monotonic() - began
    firsts = Counter(a for a, first in results if first)
    assert all(n == 1 for n in firsts.values()), "two submits of one attempt both counted as the first"
    assert len(firsts) > PEOPLE // 2  # most firsts went through the service (the rest over HTTP)

    # Scored by the running worker; then one more sweep and worker pass find nothing left to do.
    deadline = time.monotonic() + 60
    while await Attempt.count().where(Attempt.id.is_in(ids) & Attempt.ranked_at.is_null()):
        assert time.monotonic() < deadline, "the running worker did not score the submits"
        await asyncio.sleep(0.05)
    Queue(keys.QUEUE_SCORING, connection=sync_redis()).enqueue("contest.scoring.jobs.sweep")
    run_worker()

    # Exactly one open -> submitted and one submitted -> scored per attempt, as PostgreSQL itself logged them.
    assert await transitions(ids) == {**{(a, "submitted"): 1 for a in ids}, **{(a, "scored"): 1 for a in ids}}
    rows = await Attempt.select(Attempt.id, Attempt.correct, Attempt.status).where(Attempt.id.is_in(ids))
    assert {row["id"]: (row["status"], row["correct"]) for row in rows} == {a: ("scored", c) for a, (_, c) in taking.items()}
    r = async_redis()
    assert sum(map(int, await r.hvals(keys.attempts(case.round_id)))) == PEOPLE
    assert sum(map(int, await r.hvals(keys.people(case.round_id)))) == PEOPLE
    assert await r.scard(keys.ranked(case.round_id)) == PEOPLE
    assert (await check_round(case.round_id)).ok
    assert took < 60, f"{SUBMITS} submits took {took:.1f} s"
