"""Collective rankings: communes and contestant groups by participants, attempts, average best score,
participants per 1,000 inhabitants (the populations come from `leaderboard.population`) and coverage.

Read from the participation counters in Redis (leaderboard.counters: per "commune|group", kept as attempts are
ranked), never recounted per view; `count_collective` makes the same rankings from a recount in PostgreSQL
(leaderboard.recount), which certificates award from and which `contest leaderboards check` keeps equal.
A person disqualified in a round counts there no more once its results are published, as on the boards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contest import db, keys
from contest.contests.tables import COLLECTIVE_SORTS, IN_AREA
from contest.leaderboard import counters, recount, scorecode
from contest.leaderboard.scope import Scope
from contest.people.tables import GROUPS
from contest.redis import async_redis

# The contest's eligible area (people.service.IN_AREA), else every commune of the provinces its contestants come from
# (the communes with registrations, $2, from the counters); in a contest with its own units, the units people belong
# to (those without units inside them), by their collective code, with the unit they are part of.
_AREA_SQL = f"""
SELECT -u.id AS code, u.name, u.headcount AS population, o.name AS parent FROM unit u JOIN contest c ON c.id = u.contest
LEFT JOIN unit o ON o.id = u.parent
WHERE u.contest = $1 AND c.collectives = 'units' AND NOT EXISTS (SELECT 1 FROM unit k WHERE k.parent = u.id)
UNION ALL
SELECT m.code, m.name, m.population, NULL FROM commune m JOIN contest c ON c.id = $1
WHERE c.collectives = 'communes' AND CASE
    WHEN coalesce(cardinality(c.communes), 0) + coalesce(cardinality(c.provinces), 0) > 0 THEN {IN_AREA}
    ELSE m.province IN (SELECT x.province FROM commune x WHERE x.code = ANY($2::int[]))
END
"""

_MEASURES = (keys.PAIR_PEOPLE, keys.PAIR_ATTEMPTS, keys.PAIR_BEST)


@dataclass
class CollectiveRow:
    code: Any  # collective code (int: a commune's, or a unit's, people.tables.unit_code) or group slug (str)
    name: str
    people: int = 0
    attempts: int = 0
    best_sum: int = 0  # sixtieths of a question (scorecode.UNIT)
    population: int | None = None
    # For a group: the communes of the area where it has at least one participant.
    communes_covered: int = 0
    rank: int = 0
    # For a unit within another unit: that unit's name.
    parent: str | None = None

    @property
    def average(self) -> float | None:
        """Average best score of the participants, in questions (best_sum is in sixtieths of a question)."""
        return self.best_sum / self.people / scorecode.UNIT if self.people else None

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
    # The collectives are the contest's own units (`communes` then holds them): the pages say "unit".
    units: bool = False

    @property
    def coverage(self) -> str:
        return f"{self.covered}/{self.area}"


async def _assemble(scope: Scope, tally: counters.Tally, registered: list[int]) -> Collective:
    """The rankings from a scope's counters ("commune|group" -> people, attempts, sum of best results)."""
    area = await db.fetch(_AREA_SQL, scope.contest_id, registered)
    communes = {
        row["code"]: CollectiveRow(row["code"], row["name"], population=row["population"], parent=row["parent"]) for row in area
    }
    groups: dict[str, CollectiveRow] = {}
    covered_by_group: dict[str, set[int]] = {}
    for pair_, people in tally[keys.PAIR_PEOPLE].items():
        code, slug = counters.split_pair(pair_)
        commune = communes.get(code)
        if commune is None or not people:  # a contestant from outside the area (the area changed after registrations)
            continue
        group = groups.setdefault(slug, CollectiveRow(slug, slug))
        for target in (commune, group):
            target.people += people
            target.attempts += tally[keys.PAIR_ATTEMPTS].get(pair_, 0)
            target.best_sum += tally[keys.PAIR_BEST].get(pair_, 0)
        covered_by_group.setdefault(slug, set()).add(code)
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
        units=scope.units,
    )


async def collective(scope: Scope) -> Collective:
    """The collective rankings of a round or a contest, from the counters kept as attempts are ranked."""
    r = async_redis()
    tally = await counters.read(r, scope.tag, _MEASURES)
    registered = await counters.read(r, f"c{scope.contest_id}", [keys.REGISTERED])
    return await _assemble(scope, tally, list(counters.by_commune(registered[keys.REGISTERED])))


class _Pooled:
    """The app's pool (db.fetch) where the recount takes a connection."""

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        return await db.fetch(sql, *args)


def _hash(found: recount.Expected, key: str) -> dict[str, int]:
    content = found.get(key, ("hash", {}))[1]
    return content if isinstance(content, dict) else {}


async def count_collective(scope: Scope) -> Collective:
    """The same rankings recounted in PostgreSQL (the truth the counters must equal)."""
    contest, _, _ = await recount.expected_contest_counters(_Pooled(), scope.contest_id)
    found = contest
    if scope.round_id is not None:
        found = recount.round_counters(scope.round_id, await recount.round_rows(_Pooled(), scope.round_id))
    tally = {m: _hash(found, keys.tally(scope.tag, m)) for m in _MEASURES}
    registered = _hash(contest, keys.tally(f"c{scope.contest_id}", keys.REGISTERED))
    return await _assemble(scope, tally, list(counters.by_commune(registered)))


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
