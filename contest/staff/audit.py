"""The audit log: who did what, to what, when, and whether it worked; read back a page at a time, filtered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from contest import clock, db
from contest.clock import VN_TZ
from contest.staff.tables import AuditEntry

PER_PAGE = 50


async def audit(staff_id: int | None, action: str, target: str, *, outcome: object = "ok", **detail: Any) -> None:
    """Record who did what, when, and whether it worked ("ok" or "failed")."""
    # `object`: callers pass their details as **dict[str, object], which mypy checks against this name too.
    await AuditEntry.insert(
        AuditEntry(
            staff=staff_id,
            action=action,
            outcome=str(outcome),
            target=target[:200],
            detail=json.dumps(detail, default=str),
            at=clock.now(),
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    """Who (a staff id), which action, and the days (in Vietnam time) an organiser wants to read."""

    staff: int | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = ["TRUE"]
        args: list[Any] = []
        if self.staff is not None:
            clauses.append("e.staff = {}")
            args.append(self.staff)
        if self.action:
            clauses.append("e.action = {}")
            args.append(self.action)
        if self.since is not None:
            clauses.append("e.at >= {}")
            args.append(datetime.combine(self.since, time(), VN_TZ))
        if self.until is not None:
            clauses.append("e.at < {}")
            args.append(datetime.combine(self.until + timedelta(days=1), time(), VN_TZ))
        return " AND ".join(clauses), args


@dataclass
class AuditPage:
    entries: list[dict]
    total: int
    page: int
    pages: int


def shown_details(raw: Any, width: int = 120) -> list[tuple[str, str]]:
    """An entry's details as (name, value) lines a person can read: lists joined, long values cut."""
    value = json.loads(raw) if isinstance(raw, str) else raw
    lines = []
    for name, item in (value if isinstance(value, dict) else {}).items():
        text = ", ".join(map(str, item)) if isinstance(item, list) else str(item)
        lines.append((str(name), text if len(text) <= width else text[: width - 1] + "…"))
    return lines


async def audit_log(chosen: AuditFilter | None = None, page: int = 1, per_page: int = PER_PAGE) -> AuditPage:
    """Newest first, with who did it and the details as a dict; one page of the entries the filter keeps."""
    where, args = (chosen or AuditFilter()).where()
    total = int((await db.raw(f"SELECT count(*) AS n FROM audit_entry e WHERE {where}", *args))[0]["n"])
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = await db.raw(
        "SELECT e.id, e.at, e.action, e.outcome, e.target, e.detail, s.email, s.full_name "
        f"FROM audit_entry e LEFT JOIN staff s ON s.id = e.staff WHERE {where} "
        "ORDER BY e.at DESC, e.id DESC LIMIT {} OFFSET {}",
        *args,
        per_page,
        (page - 1) * per_page,
    )
    for row in rows:
        row["detail"] = shown_details(row["detail"])
    return AuditPage(rows, total, page, pages)


async def audit_choices() -> tuple[list[dict], list[str]]:
    """The people and the actions the log holds, for its filters."""
    people = await db.raw(
        "SELECT s.id, s.email, s.full_name FROM staff s WHERE EXISTS (SELECT 1 FROM audit_entry e WHERE e.staff = s.id) "
        "ORDER BY s.full_name, s.email"
    )
    actions = [r["action"] for r in await db.raw("SELECT DISTINCT action FROM audit_entry ORDER BY action")]
    return people, actions
