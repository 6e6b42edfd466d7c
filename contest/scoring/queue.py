"""Waking the scoring workers from the web app: one queued job per burst of submits."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from datetime import UTC, datetime, timedelta
from functools import cache

import redis.exceptions
from rq import Queue

from contest import keys
from contest.redis import async_redis, sync_redis
from contest.settings import get_settings

logger = logging.getLogger(__name__)


@cache
def scoring_queue() -> Queue:
    return Queue(keys.QUEUE_SCORING, connection=sync_redis())


# A job runs until it has found nothing to score twice, KICK_QUIET apart; a kick within KICK_QUIET of
# this process's last one is skipped, because the job that kick queued will still see this submit.
# At the final-hour peak this spares most submits a Redis round trip. Per process on purpose: the reasoning
# needs only this process's own last kick, so any number of web processes stay correct without sharing it.
KICK_QUIET = 0.25
_SKIP_WITHIN = 0.1
_last_kick = -1.0


async def kick() -> None:
    """Make sure a scoring job will see what was just submitted; a no-op while one is waiting to start."""
    global _last_kick
    now = time.monotonic()
    if now - _last_kick < _SKIP_WITHIN:
        return
    _last_kick = now
    try:
        if await async_redis().set(keys.SCORING_KICK, 1, nx=True, ex=30):
            await asyncio.to_thread(
                scoring_queue().enqueue, "contest.scoring.jobs.score_submitted", job_timeout=600, result_ttl=60
            )
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        # The submit is committed in PostgreSQL: the sweep scores it once Redis is back, so the contestant's
        # submit succeeds rather than showing an error for something that was saved.
        logger.warning("scoring kick skipped, Redis out of reach: %r", exc)


async def schedule_auto_submit(deadline: datetime) -> None:
    """Have a worker close and score attempts at this deadline + grace, rather than up to a sweep later.

    One job per second of deadlines (the sweep it runs closes every attempt due by then); the periodic sweep stays the
    safety net, and closing is a conditional UPDATE, so an attempt is still submitted and scored once.
    """
    # The first whole second after deadline + grace: close_expired takes deadlines strictly before now - grace.
    due = math.floor((deadline + timedelta(seconds=get_settings().contest.grace_seconds)).timestamp()) + 1
    try:
        if await async_redis().set(keys.auto_submit_due(due), 1, nx=True, exat=due + 600):
            await asyncio.to_thread(
                scoring_queue().enqueue_at,
                datetime.fromtimestamp(due, UTC),
                "contest.scoring.jobs.sweep",
                job_id=f"auto-submit-{due}",
                job_timeout=600,
                result_ttl=60,
            )
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        logger.warning("auto-submit not scheduled, Redis out of reach (the sweep closes it): %r", exc)
