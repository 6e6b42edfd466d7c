"""What a public board ranks (one round, or a whole contest) and how to find it."""

from __future__ import annotations

from dataclasses import dataclass

from contest import db, keys


@dataclass(frozen=True)
class Scope:
    """What a public board ranks: one round, or the whole contest (each person's best over its rounds)."""

    contest_id: int
    contest_slug: str
    contest_title: str
    round_id: int | None = None
    round_title: str = ""
    # The round's final results are published: its board points to them.
    results_published: bool = False
    # Why an organiser closed the round early or suspended it, shown on its board.
    stop_reason: str | None = None
    suspend_reason: str | None = None
    # The contest ranks its own units (contests.tables.COLLECTIVES), not communes: the pages say "unit".
    units: bool = False

    @property
    def tag(self) -> str:
        """ "12" for round 12, "c3" for contest 3: the cache keys' name for the scope."""
        return str(self.round_id) if self.round_id is not None else f"c{self.contest_id}"

    @property
    def title(self) -> str:
        return self.round_title or self.contest_title

    def key(self, commune: int | None = None, group: str | None = None) -> str:
        """The sorted set of the whole scope, one commune's or one group's."""
        if self.round_id is not None:
            if commune is not None:
                return keys.commune_board(self.round_id, commune)
            return keys.group_board(self.round_id, group) if group else keys.board(self.round_id)
        if commune is not None:
            return keys.contest_commune_board(self.contest_id, commune)
        return keys.contest_group_board(self.contest_id, group) if group else keys.contest_board(self.contest_id)


async def round_scope(round_id: int) -> Scope | None:
    """The board scope of one round, or None when there is no such round."""
    rows = await db.raw(
        "SELECT r.title, r.results_published_at IS NOT NULL AS published, c.id, c.slug, c.title AS contest_title, "
        "c.collectives = 'units' AS units, "
        "CASE WHEN r.stopped_at IS NOT NULL THEN r.stop_reason END AS stop_reason, "
        "CASE WHEN r.suspended_at IS NOT NULL THEN r.suspend_reason END AS suspend_reason "
        "FROM round r JOIN contest c ON c.id = r.contest WHERE r.id = {}",
        round_id,
    )
    if not rows:
        return None
    r = rows[0]
    return Scope(
        r["id"],
        r["slug"],
        r["contest_title"],
        round_id,
        r["title"],
        r["published"],
        r["stop_reason"],
        r["suspend_reason"],
        r["units"],
    )


async def contest_scope(slug: str) -> Scope | None:
    """The board scope of a whole contest, or None when there is no such published contest."""
    rows = await db.raw("SELECT id, slug, title, collectives = 'units' AS units FROM contest WHERE slug = {} AND published", slug)
    return Scope(rows[0]["id"], rows[0]["slug"], rows[0]["title"], units=rows[0]["units"]) if rows else None
