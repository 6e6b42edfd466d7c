"""Large question imports in an RQ worker, with progress in Redis for the page to poll.

The uploaded file waits in Redis (an hour) between the check and the confirm; the worker reads it from there.
Imports have their own queue, which workers take only when nothing waits to be scored.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from typing import Any

from contest import keys
from contest.i18n import message
from contest.questions import transfer
from contest.redis import async_redis, sync_redis

KEEP_SECONDS = 3600
# Files above this size are imported by a worker, with a progress bar; smaller ones within the request.
BACKGROUND_BYTES = 512 * 1024


async def stash_upload(data: bytes, name: str, staff_id: int) -> str:
    """Keep an uploaded file for the confirm step (or the worker); returns its token."""
    token = secrets.token_urlsafe(16)
    key = keys.question_upload(token)
    await async_redis().hset(key, mapping={"data": base64.b64encode(data).decode(), "name": name, "staff": staff_id})
    await async_redis().expire(key, KEEP_SECONDS)
    return token


async def load_upload(token: str, staff_id: int) -> tuple[bytes, str] | None:
    """The file behind a token, only for the staff member who uploaded it."""
    stored = await async_redis().hgetall(keys.question_upload(token))
    if not stored or stored.get("staff") != str(staff_id):
        return None
    return base64.b64decode(stored["data"]), str(stored["name"])


async def drop_upload(token: str) -> None:
    """Forget a file once imported: a second confirm must not import it twice."""
    await async_redis().delete(keys.question_upload(token))


async def queue_import(token: str, staff_id: int, dry_run: bool) -> None:
    """Hand a stashed file to a worker; its progress starts as 'queued'."""
    from rq import Queue

    progress = keys.question_import(token)
    await async_redis().hset(
        progress, mapping={"state": "queued", "phase": "read", "done": 0, "total": 0, "dry_run": int(dry_run), "staff": staff_id}
    )
    await async_redis().expire(progress, KEEP_SECONDS)
    queue = Queue(keys.QUEUE_IMPORTS, connection=sync_redis())
    await asyncio.to_thread(
        queue.enqueue, "contest.questions.jobs.run_import", token, staff_id, dry_run, job_timeout=900, result_ttl=60
    )


async def import_progress(token: str, staff_id: int) -> dict[str, Any] | None:
    """What the worker has done so far, and its report once finished (only for who started it)."""
    stored = await async_redis().hgetall(keys.question_import(token))
    if not stored or stored.get("staff") != str(staff_id):
        return None
    total = int(stored.get("total") or 0)
    done = int(stored.get("done") or 0)
    return {
        "state": stored.get("state", "queued"),
        "phase": stored.get("phase", "read"),
        "done": done,
        "total": total,
        "percent": _percent(str(stored.get("phase", "read")), done, total),
        "dry_run": stored.get("dry_run") == "1",
        "report": json.loads(stored["report"]) if stored.get("report") else None,
    }


def _percent(phase: str, done: int, total: int) -> int:
    # Checking is the first half of the bar, writing the second (a dry run stops at the half).
    part = done / total if total else 0
    return int(50 * part + (50 if phase == "write" else 0))


def run_import(token: str, staff_id: int, dry_run: bool) -> dict[str, Any]:
    """RQ entry: check (and unless a dry run, import) a stashed file, reporting progress every thousand rows."""
    r = sync_redis()
    progress = keys.question_import(token)
    stored = r.hgetall(keys.question_upload(token))
    if not stored:
        outcome = {"ok": False, "rows": 0, "imported": 0, "dry_run": dry_run, "lines": [message("import_upload_expired")]}
        r.hset(progress, mapping={"state": "done", "report": json.dumps(outcome)})
        return outcome
    data = base64.b64decode(stored[b"data"])
    raw_name = stored[b"name"]
    name = raw_name.decode() if isinstance(raw_name, bytes) else raw_name
    r.hset(progress, mapping={"state": "running"})

    def report_progress(phase: str, done: int, total: int) -> None:
        r.hset(progress, mapping={"phase": phase, "done": done, "total": total})

    report = asyncio.run(
        transfer.import_questions(data, name, dry_run=dry_run, progress=report_progress, staff_id=staff_id, via="web")
    )
    outcome = report.as_dict()
    if report.ok and not dry_run:
        r.delete(keys.question_upload(token))
    r.hset(progress, mapping={"state": "done", "report": json.dumps(outcome, ensure_ascii=False)})
    r.expire(progress, KEEP_SECONDS)
    return {k: v for k, v in outcome.items() if k != "lines"}
