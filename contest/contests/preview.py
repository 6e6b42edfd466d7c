"""Organisers' previews of a round (uncounted attempts) and the live counts of a round."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from contest import clock, db
from contest.attempts import finishing, starting
from contest.contests.builder import HAI_PHONG, BankShortfall, bank_can_fill
from contest.contests.service import round_row
from contest.i18n import InputError
from contest.leaderboard.boards import participation
from contest.people.tables import Commune
from contest.redis import async_redis
from contest.staff.audit import audit
from contest.staff.signin import StaffUser


async def preview_contestant(actor: StaffUser) -> int:
    """The organiser's own stand-in for previews (phone "p<staff id>", never a real number).

    It is marked as a preview and belongs to no contest, so no registration list, count, export, board or
    dashboard of a contest sees it; its attempts are previews too (never scored into a ranking).
    """
    commune = await Commune.select(Commune.code).where(Commune.province == HAI_PHONG).order_by(Commune.code).first()
    commune = commune or await Commune.select(Commune.code).order_by(Commune.code).first()
    if commune is None:
        raise InputError({"commune": "commune_invalid"})
    now = clock.now()
    rows = await db.raw(
        "INSERT INTO contestant (contest, preview, full_name, phone, birth_year, commune, \"group\", consented_at, created_at) "
        "VALUES (NULL, true, {}, {}, 1990, {}, 'officials', {}, {}) "
        "ON CONFLICT (phone) WHERE preview DO UPDATE SET full_name = EXCLUDED.full_name RETURNING id",
        actor.full_name[:100] or f"p{actor.id}", f"p{actor.id}", commune["code"], now, now,
    )  # fmt: skip
    return int(rows[0]["id"])


async def start_preview(actor: StaffUser, round_id: int) -> int:
    """An uncounted attempt of any round (drafts too), resumed while open: the organiser sees what contestants will."""
    row = await round_row(round_id)
    me = await preview_contestant(actor)
    now = clock.now()
    await finishing.close_expired(now, me)
    current = await db.raw("SELECT id FROM attempt WHERE contestant = {} AND round = {} AND status = 'open'", me, round_id)
    if current:
        return int(current[0]["id"])
    short = await bank_can_fill(row["draw"])
    if short:
        raise BankShortfall(short)
    attempt_id = await starting.create_attempt(
        round_id, me, row["draw"], now, now + timedelta(seconds=row["time_limit"]), preview=True
    )
    await audit(actor.id, "round.preview", f"{row['contest_slug']}#{row['number']}", attempt=attempt_id)
    return attempt_id


async def preview_owner(actor: StaffUser, attempt_id: int) -> int:
    """The preview contestant behind an attempt, if it is this organiser's preview."""
    rows = await db.raw(
        "SELECT a.contestant FROM attempt a JOIN contestant p ON p.id = a.contestant "
        "WHERE a.id = {} AND a.preview AND p.preview AND p.phone = {}",
        attempt_id,
        f"p{actor.id}",
    )
    if not rows:
        raise InputError({"attempt": "attempt_not_found"})
    return int(rows[0]["contestant"])


async def answer_key(attempt_id: int) -> dict[int, set[int]]:
    """Position -> correct option ids: for the organiser's preview only."""
    rows = await db.raw(
        "SELECT i.position, o.id FROM attempt_item i JOIN option o ON o.question = i.question AND o.is_correct "
        "WHERE i.attempt = {}",
        attempt_id,
    )
    key: dict[int, set[int]] = {}
    for r in rows:
        key.setdefault(r["position"], set()).add(r["id"])
    return key


@dataclass
class LiveCounts:
    open: int
    submitted: int
    scored: int
    people: int
    previews: int
    communes: list[tuple[str, int, int]]


async def live_counts(round_id: int) -> LiveCounts:
    """Real attempts by status and people (PostgreSQL), and scored participation per commune (Redis)."""
    rows = await db.raw(
        "SELECT count(*) FILTER (WHERE status = 'open' AND NOT preview) AS open, "
        "count(*) FILTER (WHERE status = 'submitted' AND NOT preview) AS submitted, "
        "count(*) FILTER (WHERE status = 'scored' AND NOT preview) AS scored, "
        "count(DISTINCT contestant) FILTER (WHERE NOT preview) AS people, count(*) FILTER (WHERE preview) AS previews "
        "FROM attempt WHERE round = {}",
        round_id,
    )
    counts = await participation(async_redis(), round_id)
    names = {
        r["code"]: r["name"] for r in await Commune.select(Commune.code, Commune.name).where(Commune.code.is_in([*counts, 0]))
    }
    communes = sorted(((names.get(c, str(c)), p, a) for c, (p, a) in counts.items()), key=lambda x: (-x[1], -x[2], x[0]))
    r = rows[0]
    return LiveCounts(r["open"], r["submitted"], r["scored"], r["people"], r["previews"], communes)
