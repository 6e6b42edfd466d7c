"""A contest's own units (departments, schools, enterprises, party cells), optionally one within another, each with a
headcount for participation rates: what such a contest ranks instead of communes and asks registrants for. Reading
them and choosing them; their xlsx import is `units_import`.
"""

from __future__ import annotations

from contest import db
from contest.contests.tables import COLLECTIVES, Contest
from contest.i18n import InputError
from contest.people.tables import Contestant


async def has_units(contest_id: int) -> bool:
    """Whether the contest ranks its own units (and registration asks for one)."""
    rows = await db.fetch("SELECT collectives = 'units' AS units FROM contest WHERE id = $1", contest_id)
    return bool(rows and rows[0]["units"])


async def units_of(contest_id: int) -> list[dict]:
    """The contest's units in the organiser's order, each with the name of the unit it is part of and whether
    people can join it (a unit with units inside it is joined through them)."""
    rows = await db.fetch(
        "SELECT u.id, u.code, u.name, u.headcount, u.parent, o.name AS parent_name, "
        "NOT EXISTS (SELECT 1 FROM unit k WHERE k.parent = u.id) AS joinable "
        "FROM unit u LEFT JOIN unit o ON o.id = u.parent WHERE u.contest = $1 ORDER BY u.position, u.id",
        contest_id,
    )
    return [dict(r) for r in rows]


async def joinable_ids(contest_id: int) -> set[int]:
    """The ids of the units a registrant may name."""
    return {u["id"] for u in await units_of(contest_id) if u["joinable"]}


def grouped(units: list[dict]) -> list[tuple[str | None, list[dict]]]:
    """The joinable units grouped by the unit they are part of (None: not within another), for a select."""
    out: dict[str | None, list[dict]] = {}
    for u in units:
        if u["joinable"]:
            out.setdefault(u["parent_name"], []).append(u)
    return list(out.items())


async def set_collectives(contest_id: int, collectives: str) -> None:
    """Choose what the contest ranks; refused once anyone has registered (their places would change meaning)."""
    if collectives not in COLLECTIVES:
        raise InputError({"collectives": "collectives_invalid"})
    current = await Contest.select(Contest.collectives).where(Contest.id == contest_id).first()
    if current is None:
        raise InputError({"contest": "contest_not_found"})
    if current["collectives"] == collectives:
        return
    if await Contestant.exists().where(Contestant.contest == contest_id):
        raise InputError({"collectives": "collectives_registered"})
    await Contest.update({Contest.collectives: collectives}).where(Contest.id == contest_id)
