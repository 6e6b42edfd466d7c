"""The deadline holds whatever the client does: late answers and submits are not taken, the sweep closes at the deadline.

The clock is moved, never waited for. Where a worker process runs the sweep on the wall clock, the attempt is
made in the past (the clock set back) so that its deadline has really gone by.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from rq import Queue

from contest import keys
from contest.api.auth import issue
from contest.attempts import answering, finishing, starting
from contest.attempts.tables import Attempt, AttemptItem
from contest.i18n import InputError
from contest.redis import async_redis, sync_redis
from contest.settings import get_settings
from tests.factories import answer_key

CLOSED = "Lượt thi đã kết thúc"


def _grace() -> timedelta:
    return timedelta(seconds=get_settings().contest.grace_seconds)


async def _chosen(attempt_id: int) -> dict[int, int | None]:
    rows = await AttemptItem.select(AttemptItem.position, AttemptItem.chosen).where(AttemptItem.attempt == attempt_id)
    return {row["position"]: row["chosen"] for row in rows}


async def test_over_http_nothing_after_deadline_and_grace_is_taken_and_a_late_submit_closes_at_the_deadline(
    new_round, client, clock, worker, transitions
) -> None:
    case = await new_round(per_topic=1, time_limit=300)
    me = await case.contestant(1)
    auth = {"authorization": f"Bearer {issue(me)}"}
    started = await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)
    attempt_id = started.json()["id"]
    deadline = clock.current + timedelta(seconds=300)
    key = await answer_key(attempt_id)

    def put(position: int, option: int):  # type: ignore[no-untyped-def]
        return client.put(f"/api/v1/attempts/{attempt_id}/answers/{position}", json={"option_id": option}, headers=auth)

    clock.advance(seconds=10)
    assert (await put(1, key[1][0])).status_code == 204
    clock.current = deadline + _grace()  # the last instant a slow network is forgiven
    assert (await put(2, key[2][0])).status_code == 204
    clock.advance(seconds=1)
    late = await put(3, key[3][0])
    assert late.status_code == 422 and CLOSED in late.json()["errors"]["attempt"]
    late_prediction = await client.put(f"/api/v1/attempts/{attempt_id}/prediction", json={"value": 500}, headers=auth)
    assert late_prediction.status_code == 422

    # A submit this late is not taken as in time: the attempt counts as closed at its deadline, like the sweep's.
    done = await client.post(f"/api/v1/attempts/{attempt_id}/submit", headers=auth, json={"prediction": 500})
    assert done.status_code == 200 and (done.json()["status"], done.json()["auto_submitted"]) == ("submitted", True)
    assert (await put(4, key[4][0])).status_code == 422
    worker()
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert (row["status"], row["correct"], row["auto_submitted"], row["prediction"]) == ("scored", 2, True, None)
    assert (row["submitted_at"], row["duration_ms"]) == (deadline, 300_000)
    assert await _chosen(attempt_id) == {1: key[1][0], 2: key[2][0], 3: None, 4: None}
    assert await transitions([attempt_id]) == {(attempt_id, "submitted"): 1, (attempt_id, "scored"): 1}


async def test_the_sweep_closes_an_abandoned_attempt_at_its_deadline_with_the_answers_saved_before(
    new_round, clock, worker, transitions
) -> None:
    now = clock.current
    clock.current = now - timedelta(hours=2)  # the worker's sweep runs on the wall clock: this attempt is long over
    case = await new_round(per_topic=1, time_limit=600)
    gone = await case.contestant(1)
    abandoned = await starting.start_attempt(gone, case.round_id)
    deadline = clock.current + timedelta(seconds=600)
    key = await answer_key(abandoned)
    clock.advance(minutes=1)
    await answering.save_answer(abandoned, gone, 1, key[1][0])
    clock.advance(minutes=2)
    await answering.save_answer(abandoned, gone, 2, key[2][0])
    await answering.save_answer(abandoned, gone, 3, key[3][1][0])
    clock.current = deadline + _grace()
    assert await finishing.close_expired(clock.current, gone) == 0  # not before the grace is over
    clock.advance(seconds=1)
    with pytest.raises(InputError) as exc:
        await answering.save_answer(abandoned, gone, 4, key[4][0])
    assert exc.value.errors == {"attempt": "attempt_closed"}

    # Someone else is in the middle of the round right now: the sweep leaves them alone.
    clock.current = now
    busy = await case.contestant(2)
    in_time = await starting.start_attempt(busy, case.round_id)
    await answering.save_answer(in_time, busy, 1, (await answer_key(in_time))[1][0])

    Queue(keys.QUEUE_SCORING, connection=sync_redis()).enqueue("contest.scoring.jobs.sweep")
    worker()
    row = await Attempt.select().where(Attempt.id == abandoned).first()
    assert (row["status"], row["auto_submitted"], row["submitted_at"], row["duration_ms"]) == ("scored", True, deadline, 600_000)
    assert row["correct"] == 2 and row["ranked_at"] is not None
    assert await async_redis().sismember(keys.ranked(case.round_id), str(abandoned))
    assert (await Attempt.select(Attempt.status).where(Attempt.id == in_time).first())["status"] == "open"
    # The contestant comes back and submits: nothing changes any more.
    assert (await finishing.submit(abandoned, gone)).first is False
    assert await Attempt.select().where(Attempt.id == abandoned).first() == row
    assert await transitions([abandoned, in_time]) == {(abandoned, "submitted"): 1, (abandoned, "scored"): 1}


async def test_a_late_submit_racing_the_sweep_closes_each_attempt_once_at_its_deadline(new_round, clock, transitions) -> None:
    case = await new_round(per_topic=1, time_limit=120)
    people = [await case.contestant(n) for n in range(10)]
    started = {await starting.start_attempt(me, case.round_id): me for me in people}
    deadline = clock.current + timedelta(seconds=120)
    clock.current = deadline + _grace() + timedelta(seconds=1)
    # Every contestant taps submit at the instant the sweep closes their attempt.
    outcomes = await asyncio.gather(
        *(finishing.submit(a, me) for a, me in started.items()),
        *(finishing.close_expired(clock.current, me) for me in started.values()),
    )
    submits, closes = outcomes[: len(started)], outcomes[len(started) :]
    assert sum(s.first for s in submits) + sum(closes) == len(started)  # type: ignore[union-attr,arg-type]
    assert await transitions(list(started)) == {(a, "submitted"): 1 for a in started}
    rows = await Attempt.select(Attempt.submitted_at, Attempt.auto_submitted, Attempt.duration_ms).where(
        Attempt.id.is_in(list(started))
    )
    assert all((r["submitted_at"], r["auto_submitted"], r["duration_ms"]) == (deadline, True, 120_000) for r in rows)
