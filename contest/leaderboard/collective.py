"""Collective rankings: communes and contestant groups by participants, attempts, average best score,
participants per 1,000 inhabitants (the populations come from `leaderboard.population`) and coverage.

Counted in PostgreSQL (the truth: the average of best scores is not on the Redis boards) and shared by
every viewer for a minute through Redis.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from contest import db, keys
from contest.contests.tables import COLLECTIVE_SORTS, IN_AREA
from contest.db import engine
from contest.leaderboard.scope import Scope
from contest.people.tables import GROUPS
from contest.redis import async_redis

CACHE_SECONDS = 60

# Per contestant of the scope: their scored attempts and their best result; then per commune and per group.
# A contest's scope is every round of it, so a contestant's best is their best over the rounds. Once a round's
# results are published, a person disqualified in it counts there no more, as on the boards (leaderboard.final).
_BEST_SQL = """
WITH best AS (
    SELECT a.contestant, count(*) AS attempts, max(a.correct) AS best
    FROM attempt a JOIN round r ON r.id = a.round
    WHERE a.round = ANY($1::int[]) AND a.status = 'scored' AND NOT a.preview
      AND NOT EXISTS (SELECT 1 FROM round_result rr WHERE rr.round = a.round AND rr.contestant = a.contestant
                      AND rr.disqualified AND r.results_published_at IS NOT NULL)
    GROUP BY a.contestant)
SELECT p.commune, p."group", count(*) AS people, sum(b.attempts)::bigint AS attempts, sum(b.best)::bigint AS best_sum
FROM best b JOIN contestant p ON p.id = b.contestant
GROUP BY p.commune, p."group"
"""

# The contest's eligible area (people.service.IN_AREA), else every commune of the provinces its contestants come from.
_AREA_SQL = f"""
SELECT m.code, m.name, m.population FROM commune m JOIN contest c ON c.id = $1
WHERE CASE
    WHEN coalesce(cardinality(c.communes), 0) + coalesce(cardinality(c.provinces), 0) > 0 THEN {IN_AREA}
    ELSE m.province IN (SELECT DISTINCT x.province FROM contestant p JOIN commune x ON x.code = p.commune
                        WHERE p.contest = $1)
END
"""


@dataclass
class CollectiveRow:
    code: Any  # commune code (int) or group slug (str)
    name: str
    people: int = 0
    attempts: int = 0
    best_sum: int = 0
    population: int | None = None
    # For a group: the communes of the area where it has at least one participant.
    communes_covered: int = 0
    rank: int = 0

    @property
    def average(self) -> float | None:
        """Average best score (correct answers) of the participants."""
        return self.best_sum / self.people if self.people else None

    @property
    def rate(self) -> float | None:
        """Participants per 1,000 inhabitants, when the population is known."""
        return self.people * 1000 / self.population if self.population else None


@dataclass
class Collective:
    communes: list[CollectiveRow]
    groups: list[CollectiveRow]
    # Communes of the area with at least one participant, and how many communes the area has.
    covered: int = 0
    area: int = 0
    group_names: dict[str, str] = field(default_factory=dict)

    @property
    def coverage(self) -> str:
        return f"{self.covered}/{self.area}"


async def _rounds_of(scope: Scope) -> list[int]:
    if scope.round_id is not None:
        return [scope.round_id]
    rows = await db.raw("SELECT id FROM round WHERE contest = {}", scope.contest_id)
    return [row["id"] for row in rows]


async def count_collective(scope: Scope) -> Collective:
    """Communes of the area and contestant groups, with their participants, attempts and best scores (uncached)."""
    conn = await engine().get_new_connection() if engine().pool is None else None
    try:
        runner = conn if conn is not None else engine().pool
        assert runner is not None
        area = await runner.fetch(_AREA_SQL, scope.contest_id)
        counted = await runner.fetch(_BEST_SQL, await _rounds_of(scope))
    finally:
        if conn is not None:
            await conn.close()
    communes = {row["code"]: CollectiveRow(row["code"], row["name"], population=row["population"]) for row in area}
    groups: dict[str, CollectiveRow] = {}
    covered_by_group: dict[str, set[int]] = {}
    for row in counted:
        commune = communes.get(row["commune"])
        if commune is None:  # a contestant from outside the area (the area changed after registrations)
            continue
        group = groups.setdefault(row["group"], CollectiveRow(row["group"], row["group"]))
        for target in (commune, group):
            target.people += row["people"]
            target.attempts += row["attempts"]
            target.best_sum += row["best_sum"]
        covered_by_group.setdefault(row["group"], set()).add(row["commune"])
    for slug, codes in covered_by_group.items():
        groups[slug].communes_covered = len(codes)
    contest_groups = await db.raw("SELECT groups FROM contest WHERE id = {}", scope.contest_id)
    for slug in contest_groups[0]["groups"] if contest_groups and contest_groups[0]["groups"] else GROUPS:
        groups.setdefault(slug, CollectiveRow(slug, slug))
    return Collective(
        list(communes.values()),
        list(groups.values()),
        sum(1 for c in communes.values() if c.people),
        len(communes),
    )


async def collective(scope: Scope) -> Collective:
    """The collective rankings of a round or a contest, shared for a minute by every viewer."""
    r = async_redis()
    key = keys.collective(scope.tag)
    cached = await r.get(key)
    if cached is not None:
        data = json.loads(cached)
        return Collective(
            [CollectiveRow(**row) for row in data["communes"]],
            [CollectiveRow(**row) for row in data["groups"]],
            data["covered"],
            data["area"],
        )
    result = await count_collective(scope)
    await r.set(key, json.dumps(asdict(result)), ex=CACHE_SECONDS)
    return result


def ranked(rows: list[CollectiveRow], by: str = "people") -> list[CollectiveRow]:
    """Best first by one measure (participants, attempts, average best score or rate per 1,000), ties sharing a rank;
    rows without a value for the measure (no participants, no population) last."""
    by = by if by in COLLECTIVE_SORTS else "people"

    def value(row: CollectiveRow) -> float | None:
        return {"people": row.people, "attempts": row.attempts, "average": row.average, "rate": row.rate}[by]

    def order(row: CollectiveRow) -> tuple[int, float, int, str]:
        v = value(row)
        return (v is None, -(v or 0), -row.people, str(row.name))

    out = sorted(rows, key=order)
    for i, row in enumerate(out):
        same = i and value(out[i - 1]) == value(row)
        row.rank = out[i - 1].rank if same else i + 1
    return out
