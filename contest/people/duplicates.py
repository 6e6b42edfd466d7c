"""Duplicate-account signals for organisers: flagged for a person to look at, never deleted.

Three signals over one contest's registrations (the unique constraint already stops one phone
registering twice in the same contest):
- same person: the same name (accents, case and spacing aside), birth year and commune;
- one address: many registrations from one IP within a short time (default ≥ 5 within an hour);
- one phone, other names: a phone registered in this contest and in another one under a different name.
An organiser marks a group reviewed; the mark lives in the audit log, and a group that gains a
member after its review is flagged again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from contest import db
from contest.contests.tables import Contest
from contest.i18n import InputError
from contest.staff.audit import audit
from contest.staff.tables import AuditEntry
from contest.text import composed, fold

SIGNALS = ("same_person", "same_ip", "same_phone")
IP_THRESHOLD = 5
IP_WINDOW = timedelta(hours=1)
REVIEWED = "duplicates.reviewed"


@cache
def _fold_table() -> tuple[str, str]:
    """translate() arguments that fold a stored name like contest.text.fold: every Latin letter to its bare lower case."""
    source, target = [], []
    for code in [*range(ord("A"), ord("Z") + 1), *range(0xC0, 0x250), *range(0x1E00, 0x1F00)]:
        ch = chr(code)
        if composed(ch) != ch or not ch.isalpha():
            continue
        bare = fold(ch)
        if len(bare) == 1 and bare.isascii() and bare != ch:
            source.append(ch)
            target.append(bare)
    return "".join(source), "".join(target)


# Names are stored NFC with single spaces and letters only (people.service.validate), so translate() folds them.
_FOLDED = "translate(p.full_name, {}, {})"

_SAME_PERSON_SQL = f"""
WITH folded AS (
    SELECT p.id, {_FOLDED} AS name, p.birth_year, p.collective AS commune FROM contestant p WHERE p.contest = {{}}
), groups AS (
    SELECT name, birth_year, commune FROM folded GROUP BY name, birth_year, commune HAVING count(*) > 1
)
SELECT g.name || '|' || g.birth_year || '|' || g.commune AS key, f.id
FROM groups g JOIN folded f USING (name, birth_year, commune)
"""

# A burst starts at a registration followed, within the window, by threshold-1 more from the same address.
_SAME_IP_SQL = """
WITH counted AS (
    SELECT id, registered_ip, created_at,
           count(*) OVER (PARTITION BY registered_ip ORDER BY created_at
                          RANGE BETWEEN CURRENT ROW AND make_interval(secs => {}) FOLLOWING) AS n
    FROM contestant WHERE contest = {} AND registered_ip IS NOT NULL
)
SELECT DISTINCT c.registered_ip AS key, c.id
FROM counted s JOIN counted c ON c.registered_ip = s.registered_ip
 AND c.created_at >= s.created_at AND c.created_at <= s.created_at + make_interval(secs => {})
WHERE s.n >= {}
"""

_SAME_PHONE_SQL = f"""
WITH here AS (SELECT DISTINCT phone FROM contestant WHERE contest = {{}}),
everywhere AS (
    SELECT p.id, p.phone, {_FOLDED} AS name FROM contestant p JOIN here USING (phone)
), flagged AS (
    SELECT phone FROM everywhere GROUP BY phone HAVING count(DISTINCT name) > 1
)
SELECT e.phone AS key, e.id FROM everywhere e JOIN flagged USING (phone)
"""

_PEOPLE_SQL = """
SELECT p.id, p.contest, c.title AS contest_title, p.full_name, p.phone, p.birth_year, p.collective AS commune,
       m.name AS commune_name, p."group", p.created_at, p.registered_ip
FROM contestant p JOIN place m ON m.code = p.collective JOIN contest c ON c.id = p.contest
WHERE p.id = ANY({})
"""


@dataclass
class DuplicateGroup:
    signal: str
    key: str
    people: list[dict] = field(default_factory=list)
    reviewed_by: str | None = None
    reviewed_at: object = None

    @property
    def ids(self) -> list[int]:
        return sorted(p["id"] for p in self.people)

    @property
    def reviewed(self) -> bool:
        return self.reviewed_at is not None


async def _keyed(sql: str, *params: object) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row in await db.raw(sql, *params):
        out.setdefault(str(row["key"]), []).append(row["id"])
    return out


async def _signal_groups(contest_id: int, ip_threshold: int, ip_window: timedelta) -> list[tuple[str, str, list[int]]]:
    source, target = _fold_table()
    window = ip_window.total_seconds()
    found = {
        "same_person": await _keyed(_SAME_PERSON_SQL, source, target, contest_id),
        "same_ip": await _keyed(_SAME_IP_SQL, window, contest_id, window, max(2, ip_threshold)),
        "same_phone": await _keyed(_SAME_PHONE_SQL, contest_id, source, target),
    }
    return [(signal, key, ids) for signal in SIGNALS for key, ids in sorted(found[signal].items())]


async def _reviews(contest_id: int) -> dict[tuple[str, str], dict]:
    """The latest review of each group of this contest, from the audit log."""
    rows = (
        await AuditEntry.select(AuditEntry.detail, AuditEntry.at, AuditEntry.staff.email.as_alias("email"))
        .where((AuditEntry.action == REVIEWED) & (AuditEntry.target == f"contest:{contest_id}"))
        .order_by(AuditEntry.at)
        .order_by(AuditEntry.id)
    )
    out: dict[tuple[str, str], dict] = {}
    for row in rows:
        detail = json.loads(row["detail"]) if isinstance(row["detail"], str) else row["detail"]
        out[(detail["signal"], detail["key"])] = {**detail, "at": row["at"], "email": row["email"]}
    return out


async def duplicate_groups(
    contest_id: int, ip_threshold: int = IP_THRESHOLD, ip_window: timedelta = IP_WINDOW
) -> list[DuplicateGroup]:
    """Every flagged group of a contest with its people; groups not reviewed (or grown since) first."""
    found = await _signal_groups(contest_id, ip_threshold, ip_window)
    ids = sorted({i for _, _, group in found for i in group})
    people = {row["id"]: row for row in await db.raw(_PEOPLE_SQL, ids)} if ids else {}
    reviews = await _reviews(contest_id)
    groups = []
    for signal, key, members in found:
        group = DuplicateGroup(signal, key, sorted((people[i] for i in members), key=lambda p: (p["created_at"], p["id"])))
        review = reviews.get((signal, key))
        # A review covers the people it saw: someone new in the group flags it again.
        if review and set(group.ids) <= set(review.get("people", [])):
            group.reviewed_by, group.reviewed_at = review["email"], review["at"]
        groups.append(group)
    return sorted(groups, key=lambda g: (g.reviewed, SIGNALS.index(g.signal), g.key))


async def mark_reviewed(
    staff_id: int,
    contest_id: int,
    signal: str,
    key: str,
    ip_threshold: int = IP_THRESHOLD,
    ip_window: timedelta = IP_WINDOW,
) -> DuplicateGroup:
    """An organiser has looked at a flagged group: recorded in the audit log with its people; nothing is deleted."""
    if not await Contest.exists().where(Contest.id == contest_id):
        raise InputError({"contest": "contest_not_found"})
    for group in await duplicate_groups(contest_id, ip_threshold, ip_window):
        if group.signal == signal and group.key == key:
            await audit(staff_id, REVIEWED, f"contest:{contest_id}", signal=signal, key=key, people=group.ids)
            return group
    raise InputError({"group": "duplicate_group_unknown"})


async def contest_named(contest_id: int) -> dict | None:
    """A contest's id, title and slug, as the duplicate pages head it, or None."""
    return await Contest.select(Contest.id, Contest.title, Contest.slug).where(Contest.id == contest_id).first()


async def contests_with_counts() -> list[dict]:
    """Every contest, newest first: the organisers' way into the duplicate pages."""
    return await db.raw(
        "SELECT c.id, c.slug, c.title, (SELECT count(*) FROM contestant p WHERE p.contest = c.id) AS people "
        "FROM contest c ORDER BY c.id DESC"
    )
