"""An attempt nobody submits is scored at its deadline + grace, not up to a sweep interval later."""

import random
from datetime import UTC, datetime, timedelta

from contest.attempts import service as attempts
from contest.attempts import starting
from contest.attempts.tables import Attempt
from contest.scoring.queue import scoring_queue
from contest.settings import get_settings


async def test_an_attempt_nobody_submits_is_scored_within_grace_and_two_seconds_of_its_deadline(new_round, clock, worker) -> None:
    grace = get_settings().contest.grace_seconds
    # The worker runs on the wall clock: the attempt starts so that its deadline + grace has just passed.
    clock.current = datetime.now(UTC) - timedelta(seconds=60 + grace + 1)
    case = await new_round(per_topic=1, time_limit=60)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    deadline = (await attempts.attempt_view(attempt_id, me, with_items=False)).deadline

    registry = scoring_queue().scheduled_job_registry
    due = [registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids() if job_id.startswith("auto-submit-")]
    limit = deadline + timedelta(seconds=grace)
    assert any(limit < at <= limit + timedelta(seconds=2) for at in due), due

    worker()  # no sweep is queued: only the job scheduled at the start closes and scores the attempt
    row = await Attempt.select(Attempt.status, Attempt.auto_submitted, Attempt.submitted_at).where(Attempt.id == attempt_id)
    assert row[0]["status"] == "scored" and row[0]["auto_submitted"]
    assert row[0]["submitted_at"] == deadline


async def test_one_auto_submit_job_serves_every_deadline_in_the_same_second(new_round, clock) -> None:
    clock.advance(seconds=random.randint(10**5, 10**7))  # a second no other test's deadlines fall in
    case = await new_round(per_topic=1, time_limit=600)
    registry = scoring_queue().scheduled_job_registry
    for n in range(1, 4):
        await starting.start_attempt(await case.contestant(n), case.round_id)
    due = int((clock.current + timedelta(seconds=600 + get_settings().contest.grace_seconds)).timestamp()) + 1
    ours = [j for j in registry.get_job_ids() if j.startswith("auto-submit-") and abs(int(j.rsplit("-", 1)[1]) - due) <= 1]
    assert ours == [f"auto-submit-{due}"]
