"""What a contestant sees after an attempt: its score and time, and their best standing in the round."""

from __future__ import annotations

from dataclasses import dataclass

from contest import clock, db
from contest.i18n import InputError
from contest.leaderboard import scorecode
from contest.leaderboard.boards import Standing, standing
from contest.redis import async_redis


@dataclass
class AttemptResult:
    attempt_id: int
    round_id: int
    contest_slug: str
    status: str
    correct: int | float | None  # the score in questions: 7.5 with partial credit
    total: int
    duration_ms: int | None
    auto_submitted: bool
    best: Standing | None
    commune_name: str
    attempts_left: int
    # The round's results are published: the places are the official ones (before that they are provisional).
    final: bool = False

    @property
    def ready(self) -> bool:
        return self.status == "scored" and self.best is not None


async def attempt_result(attempt_id: int, contestant_id: int) -> AttemptResult:
    """An attempt's score and time, and the contestant's best standing in the round once it is ranked."""
    rows = await db.raw(
        "SELECT a.id, a.round, a.status, a.points, a.total, a.duration_ms, a.auto_submitted, a.ranked_at, "
        "p.collective AS commune, m.name AS commune_name, c.slug, r.max_attempts, r.closes_at, "
        "r.results_published_at IS NOT NULL AS final, "
        "(SELECT count(*) FROM attempt x WHERE x.round = a.round AND x.contestant = a.contestant) AS used "
        "FROM attempt a JOIN contestant p ON p.id = a.contestant JOIN place m ON m.code = p.collective "
        "JOIN round r ON r.id = a.round JOIN contest c ON c.id = r.contest WHERE a.id = {} AND a.contestant = {}",
        attempt_id,
        contestant_id,
    )
    if not rows:
        raise InputError({"attempt": "attempt_not_found"})
    a = rows[0]
    best = await standing(async_redis(), a["round"], contestant_id, a["commune"]) if a["ranked_at"] else None
    return AttemptResult(
        a["id"],
        a["round"],
        a["slug"],
        a["status"],
        scorecode.in_questions(a["points"]),
        a["total"],
        a["duration_ms"],
        a["auto_submitted"],
        best,
        a["commune_name"],
        # No retake is offered once the round has closed.
        max(0, a["max_attempts"] - a["used"]) if clock.now() < a["closes_at"] else 0,
        a["final"],
    )
