"""What the public sees of the boards: one view of a scope (its top, with short names and masked phones, and
participation by commune and group), a contestant's own places, and the rendering shared by every viewer."""

from __future__ import annotations

from dataclasses import dataclass, field

from contest import db
from contest.leaderboard import scorecode
from contest.leaderboard.boards import Place, group_participation, participation, place_on, top_and_rank
from contest.leaderboard.collective import collective
from contest.leaderboard.scope import Scope, round_scope
from contest.people.phone import mask_phone, short_name
from contest.people.tables import GROUPS
from contest.redis import async_redis


def view_filter(commune: int | None, group: str | None) -> tuple[int | None, str | None, str]:
    """One view of a board at a time (a commune's, else a known group's, else everyone's), and its cache name."""
    if commune is not None:
        return commune, None, f"c{commune}"
    if group in GROUPS:
        return None, group, f"g{group}"
    return None, None, "all"


@dataclass
class BoardRow:
    rank: int
    name: str
    phone: str
    commune: str
    correct: int | float  # the score in questions: 7.5 with partial credit
    duration_ms: int


@dataclass
class CommuneRow:
    code: int
    name: str
    people: int
    attempts: int


@dataclass
class GroupRow:
    group: str
    people: int
    attempts: int


@dataclass
class BoardView:
    round_id: int | None
    round_title: str
    contest_slug: str
    contest_title: str
    commune: int | None
    rows: list[BoardRow]
    communes: list[CommuneRow]
    people: int
    group: str | None = None
    groups: list[GroupRow] = field(default_factory=list)
    total: int = 0
    commune_name: str = ""
    scope: Scope | None = None


async def public_rows(best: list[tuple[int, int, int]]) -> list[BoardRow]:
    """Board rows for the public: short names and masked phones only, never what identifies a person."""
    people = {
        row["id"]: row
        for row in await db.raw(
            "SELECT p.id, p.full_name, p.phone, m.name AS commune FROM contestant p JOIN place m ON m.code = p.collective "
            "WHERE p.id = ANY({})",
            [cid for _, cid, _ in best],
        )
    }
    rows = []
    for rank, cid, score in best:
        points, duration, _ = scorecode.decode(score)
        p = people[cid]
        questions = scorecode.in_questions(points) or 0
        rows.append(BoardRow(rank, short_name(p["full_name"]), mask_phone(p["phone"]), p["commune"], questions, duration))
    return rows


async def board_rows(scope: Scope, commune: int | None, group: str | None, n: int = 20) -> tuple[list[BoardRow], int]:
    """The best n of one view of a scope, for the public, and how many are on that board."""
    best, total, _ = await top_and_rank(async_redis(), scope.key(commune, group), n)
    return await public_rows(best), total


async def board_view(round_id: int, commune: int | None = None, n: int = 20, group: str | None = None) -> BoardView | None:
    """A public round board: the best n (short names, masked phones) and participation by commune and group."""
    scope = await round_scope(round_id)
    return await scope_view(scope, commune, group, n) if scope else None


async def scope_view(scope: Scope, commune: int | None = None, group: str | None = None, n: int = 20) -> BoardView:
    """A public board of a round or a contest, one view of it, with participation by commune and group."""
    commune, group, _ = view_filter(commune, group)
    # n = 0: the caller shows the top from the shared live fragment and needs only the counts.
    rows, total = await board_rows(scope, commune, group, n) if n > 0 else ([], 0)
    if scope.round_id is not None:
        r = async_redis()
        counts = await participation(r, scope.round_id)
        by_group = await group_participation(r, scope.round_id)
    else:
        ranking = await collective(scope)
        counts = {c.code: (c.people, c.attempts) for c in ranking.communes if c.people}
        by_group = {g.code: (g.people, g.attempts) for g in ranking.groups if g.people}
    names = {
        row["code"]: row["name"]
        for row in await db.raw(
            "SELECT code, name FROM place WHERE code = ANY({})", [*counts, *([commune] if commune is not None else [])]
        )
    }
    communes = sorted(
        (CommuneRow(code, names.get(code, str(code)), p, a) for code, (p, a) in counts.items()),
        key=lambda c: (-c.people, -c.attempts, c.name),
    )
    groups = sorted((GroupRow(g, p, a) for g, (p, a) in by_group.items()), key=lambda g: (-g.people, -g.attempts, g.group))
    return BoardView(
        scope.round_id,
        scope.round_title,
        scope.contest_slug,
        scope.contest_title,
        commune,
        rows,
        communes,
        sum(c.people for c in communes),
        group,
        groups,
        total,
        names.get(commune, "") if commune is not None else "",
        scope,
    )


@dataclass
class MyPlaces:
    """A contestant's own places on a scope's boards: everyone's, their commune's, their group's."""

    name: str
    phone: str
    commune_name: str
    group: str
    overall: Place | None
    in_commune: Place | None
    in_group: Place | None
    # On a round's boards: True once its results are published (official places), False before (provisional);
    # None on the contest-wide boards, which keep each person's best over the rounds.
    final: bool | None = None


async def my_places(scope: Scope, contestant_id: int) -> MyPlaces | None:
    """Where one contestant of the scope's contest stands (None when they are not registered in it)."""
    rows = await db.raw(
        'SELECT p.full_name, p.phone, p.collective AS commune, p."group", m.name AS commune_name '
        "FROM contestant p JOIN place m ON m.code = p.collective WHERE p.id = {} AND p.contest = {}",
        contestant_id,
        scope.contest_id,
    )
    if not rows:
        return None
    p = rows[0]
    r = async_redis()
    return MyPlaces(
        short_name(p["full_name"]),
        mask_phone(p["phone"]),
        p["commune_name"],
        p["group"],
        await place_on(r, scope.key(), contestant_id),
        await place_on(r, scope.key(commune=p["commune"]), contestant_id),
        await place_on(r, scope.key(group=p["group"]), contestant_id),
        scope.results_published if scope.round_id is not None else None,
    )
