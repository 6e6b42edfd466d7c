"""RQ entry points for certificates (award a round, render one, bundle a round) and what the app needs to follow them
(the daily purge of files is in purge.py).

Progress goes in the job's meta (`phase`, `done`, `total`), which the staff page polls with htmx. Jobs run on their
own queue, which workers take after the scoring queue: a bulk award never delays a score.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job

from contest import keys
from contest.certificates import bundles, design, files, service
from contest.i18n import InputError
from contest.redis import async_redis, sync_redis
from contest.staff.audit import audit

RESULT_SECONDS = 24 * 3600
RENDER_FLAG_SECONDS = 120


def _queue() -> Queue:
    return Queue(keys.QUEUE_CERTIFICATES, connection=sync_redis())


def _report(phase: str, done: int, total: int) -> None:
    job = get_current_job()
    if job is not None:
        job.meta.update(phase=phase, done=done, total=total)
        job.save_meta()


# ---- entry points (in the worker) ---------------------------------------------------------------------


def award_round(round_id: int, staff_id: int | None) -> dict[str, Any]:
    """Award every certificate a round earns, reporting progress."""

    async def run() -> dict[str, Any]:
        try:
            report = await service.award_round(round_id, progress=_report)
        except InputError as exc:  # e.g. the design lost its signer after the job was queued: said, not a failure
            return {**service.AwardReport(skipped=list(exc.errors.values())).as_dict()}
        await audit(staff_id, "certificate.award", str(round_id), **report.as_dict())
        return report.as_dict()

    return asyncio.run(run())


def render_certificate(code: str) -> list[str]:
    """Render one certificate's PDF and PNG into the cache (nothing for a revoked or unknown code)."""

    async def load() -> tuple[dict | None, dict]:
        cert = await service.by_code(code)
        return cert, await design.design_of(cert["contest"]) if cert else {}

    cert, values = asyncio.run(load())
    try:
        if cert is None or cert["revoked_at"] is not None:
            return []
        return [path.name for path in files.render_cert(cert, values).values()]
    finally:
        if cert is not None:
            sync_redis().delete(keys.certificate_render(code, files.render_key(values)))


def zip_round(
    round_id: int, kind: str | None, commune: int | None, staff_id: int | None, layout: str = "files"
) -> dict[str, Any]:
    """Render what is missing and bundle a round's valid certificates (one kind, one commune or all): a zip of PDFs,
    or one many-page PDF per commune."""

    async def load() -> tuple[list[dict], dict]:
        rows = await service.valid_of_round(round_id, kind, commune)
        contest = rows[0]["contest"] if rows else None
        await audit(staff_id, "certificate.zip", str(round_id), kind=kind, commune=commune, count=len(rows), layout=layout)
        return rows, await design.design_of(contest) if contest else {}

    rows, values = asyncio.run(load())
    _report("render", 0, len(rows))
    path = bundles.build(round_id, rows, values, layout, lambda done, total: _report("render", done, total))
    return {"file": path.name, "count": len(rows), "bytes": path.stat().st_size}


# ---- in the app: queue and follow ---------------------------------------------------------------------


async def queue_award(round_id: int, staff_id: int | None) -> str:
    job = await asyncio.to_thread(
        _queue().enqueue, award_round, round_id, staff_id, job_timeout=3600, result_ttl=RESULT_SECONDS, meta={"staff": staff_id}
    )
    return job.id


async def queue_zip(round_id: int, kind: str | None, commune: int | None, staff_id: int, layout: str = "files") -> str:
    job = await asyncio.to_thread(
        _queue().enqueue,
        zip_round,
        round_id,
        kind,
        commune,
        staff_id,
        layout,
        job_timeout=6 * 3600,
        result_ttl=RESULT_SECONDS,
        meta={"staff": staff_id},
    )
    return job.id


async def queue_render(code: str, key: str) -> None:
    """Ask a worker to render a certificate (for this render key), once per burst of requests for it."""
    if await async_redis().set(keys.certificate_render(code, key), "1", nx=True, ex=RENDER_FLAG_SECONDS):
        await asyncio.to_thread(_queue().enqueue, render_certificate, code, job_timeout=120, result_ttl=60, at_front=True)


def well_formed(job_id: str) -> bool:
    """Whether the text can be a job id at all (RQ refuses any other with a ValueError)."""
    return 0 < len(job_id) <= 64 and job_id.isascii() and job_id.replace("-", "").replace("_", "").isalnum()


def job_state(job_id: str) -> dict[str, Any] | None:
    """A certificate job's status, progress and result, for the page that polls it; None when unknown."""
    if not well_formed(job_id):
        return None
    try:
        job = Job.fetch(job_id, connection=sync_redis())
    except NoSuchJobError:
        return None
    func = job.func_name or ""
    if func.rsplit(".", 1)[0] != __name__:
        return None
    status = job.get_status()
    meta = job.get_meta()
    total, done = int(meta.get("total") or 0), int(meta.get("done") or 0)
    return {
        "id": job.id,
        "status": str(status.value if status is not None and hasattr(status, "value") else status),
        "phase": meta.get("phase", ""),
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else 0,
        "result": job.return_value() if status is not None and str(getattr(status, "value", status)) == "finished" else None,
        "kind": func.rsplit(".", 1)[1],
        "staff": meta.get("staff"),
    }
