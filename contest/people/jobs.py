"""RQ entry point for people's data: the daily purge of personal data past each contest's retention period."""

from __future__ import annotations

import asyncio
from typing import Any

from contest.people import privacy
from contest.redis import close_async_redis


async def run_purge(dry_run: bool = False) -> privacy.PurgeReport:
    """One purge in its own event loop (a job or the command line), closing the Redis client it opened."""
    try:
        return await privacy.purge(dry_run=dry_run)
    finally:
        await close_async_redis()


def purge_personal_data() -> dict[str, Any]:
    """Anonymise the registrations of every contest past its retention period (idempotent; daily from `contest cron`)."""
    return asyncio.run(run_purge()).as_dict()
