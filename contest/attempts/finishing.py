"""Finishing an attempt: the contestant's submit (once), and the auto-submit of attempts past deadline and grace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contest import clock, db
from contest.attempts.service import grace
from contest.grouped import GroupWriter, deadlocked
from contest.i18n import InputError


async def close_expired(now: datetime | None = None, contestant_id: int | None = None) -> int:
    """Auto-submit attempts whose deadline and grace have passed (one contestant's, or all); stamped at the deadline."""
    now = now or clock.now()
    rows = await db.raw(
        "UPDATE attempt SET status = 'submitted', submitted_at = deadline, auto_submitted = true, "
        "duration_ms = (extract(epoch FROM deadline - started_at) * 1000)::int "
        "WHERE status = 'open' AND deadline < {} AND ({}::bigint IS NULL OR contestant = {}) RETURNING id",
        now - grace(),
        contestant_id,
        contestant_id,
    )
    return len(rows)


_SUBMIT = """
WITH given AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS t(attempt, contestant, at))
UPDATE attempt SET status = 'submitted',
    auto_submitted = deadline + $4::interval < g.at,
    submitted_at = CASE WHEN deadline + $4::interval < g.at THEN deadline ELSE g.at END,
    duration_ms = (extract(epoch FROM LEAST(g.at, deadline) - started_at) * 1000)::int
FROM given g
WHERE attempt.id = g.attempt AND attempt.contestant = g.contestant AND attempt.status = 'open'
RETURNING attempt.id, total, duration_ms, auto_submitted,
    -- No retake once the round has closed.
    coalesce((SELECT r.max_attempts FROM round r WHERE r.id = attempt.round AND r.closes_at > g.at), 0)
    - (SELECT count(*) FROM attempt x WHERE x.round = attempt.round AND x.contestant = attempt.contestant)
    AS attempts_left
"""


@dataclass
class Submitted:
    """What a fresh submit knows without another query; `first` is False for a repeated submit."""

    first: bool
    total: int = 0
    duration_ms: int = 0
    auto_submitted: bool = False
    attempts_left: int = 0


async def _submit_many(rows: list[tuple[int, int, datetime]]) -> list[Submitted | None]:
    attempts, contestants, times = map(list, zip(*rows, strict=True))
    done = {r["id"]: r for r in await db.fetch(_SUBMIT, attempts, contestants, times, grace())}
    return [
        Submitted(True, r["total"], r["duration_ms"], r["auto_submitted"], max(0, r["attempts_left"]))
        if (r := done.get(row[0])) is not None
        else None
        for row in rows
    ]


_submit_writer: GroupWriter[tuple[int, int, datetime], Submitted | None] = GroupWriter(
    _submit_many, key=lambda row: row[0], retry_if=deadlocked
)


async def submit(attempt_id: int, contestant_id: int) -> Submitted:
    """Submit once: later calls change nothing (first=False), and only the first must kick scoring.

    Within deadline + grace the server stamps now (time taken stops at the deadline);
    later, the attempt counts as closed at its deadline.
    """
    fresh = await _submit_writer((attempt_id, contestant_id, clock.now()))
    if fresh is not None:
        return fresh
    exists = await db.fetch("SELECT 1 FROM attempt WHERE id = $1 AND contestant = $2", attempt_id, contestant_id)
    if not exists:
        raise InputError({"attempt": "attempt_not_found"})
    return Submitted(False)
