"""Question imports run on their own queue: a large import started during a contest never delays a score."""

from __future__ import annotations

import secrets

from rq import Queue
from rq.job import Job

from contest import keys
from contest.questions import jobs
from contest.redis import sync_redis


def _import_jobs(token: str) -> dict[str, list[Job]]:
    """The queued import jobs of this token, by the queue they wait on."""
    found: dict[str, list[Job]] = {}
    for name in keys.QUEUES:
        queue = Queue(name, connection=sync_redis())
        found[name] = [j for j in queue.get_jobs() if j.func_name.endswith("run_import") and j.args[0] == token]
    return found


async def test_a_question_import_waits_on_its_own_queue_not_the_scoring_one() -> None:
    token = secrets.token_urlsafe(8)
    await jobs.queue_import(token, 0, dry_run=True)
    queued = _import_jobs(token)
    assert len(queued[keys.QUEUE_IMPORTS]) == 1
    assert not any(queued[name] for name in keys.QUEUES if name != keys.QUEUE_IMPORTS)
    Queue(keys.QUEUE_IMPORTS, connection=sync_redis()).remove(queued[keys.QUEUE_IMPORTS][0])


async def test_a_worker_scores_before_it_takes_an_import_queued_earlier(worker) -> None:
    token = secrets.token_urlsafe(8)
    await jobs.queue_import(token, 0, dry_run=True)
    imported = _import_jobs(token)[keys.QUEUE_IMPORTS][0]
    scored = Queue(keys.QUEUE_SCORING, connection=sync_redis()).enqueue("contest.scoring.jobs.sweep", result_ttl=60)
    worker()
    imported, scored = Job.fetch(imported.id, connection=sync_redis()), Job.fetch(scored.id, connection=sync_redis())
    assert imported.is_finished and scored.is_finished
    assert scored.ended_at is not None and imported.started_at is not None
    assert scored.ended_at <= imported.started_at
