"""The daily purge of certificate files, an RQ job `contest cron` schedules: renders no certificate is served from
any more (a superseded design, an old public address) and bundles past their day. Apart from jobs.py so that the
scheduler names it without importing the award and bundle code (it must be in its loop within a second or two).
"""

from __future__ import annotations

import asyncio

from contest import db
from contest.certificates import design, files


def purge_files() -> dict[str, int]:
    """Remove what no certificate is served from; a certificate is rendered again when asked for."""

    async def current() -> dict[int, str]:
        contests = await db.raw("SELECT DISTINCT contest FROM certificate")
        return {row["contest"]: files.render_key(await design.design_of(row["contest"])) for row in contests}

    return files.purge(asyncio.run(current()))
