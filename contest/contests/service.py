"""Contests and their rounds as they are read: by contestants (published ones) and by organisers (every row)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contest import clock, db
from contest.contests.tables import Contest, Round
from contest.i18n import InputError


@dataclass
class RoundInfo:
    id: int
    number: int
    title: str
    opens_at: datetime
    closes_at: datetime
    max_attempts: int
    results_published: bool = False
    # Set when an organiser closed the round early or suspended it: what contestants are told.
    stop_reason: str | None = None
    suspend_reason: str | None = None

    def state(self, now: datetime) -> str:
        if now < self.opens_at:
            return "upcoming"
        # Closed early with attempts kept to their deadline: the close waits for them, starts do not.
        return "open" if now < self.closes_at and self.stop_reason is None else "closed"

    def seconds_left(self, now: datetime) -> int:
        return max(0, int((self.closes_at - now).total_seconds()))


@dataclass
class ContestInfo:
    id: int
    slug: str
    title: str
    description: str
    time_limit_seconds: int
    question_count: int
    rounds: list[RoundInfo]
    # The contestant groups it names (empty: every group).
    groups: list[str] = field(default_factory=list)
    # A question with several correct options scores in part (else all or nothing).
    partial_credit: bool = False
    # It ranks its own units (people.units): registration asks for a unit instead of a province and commune.
    units: bool = False

    def open_round(self, now: datetime) -> RoundInfo | None:
        return next((r for r in self.rounds if r.state(now) == "open"), None)


def parse_quotas(value: str | dict | None) -> dict[str, int]:
    """Per-topic quotas as stored (JSONB comes back as text)."""
    return value if isinstance(value, dict) else json.loads(value or "{}")


def _info(row: dict, rounds: list[dict]) -> ContestInfo:
    quotas = parse_quotas(row["quotas"])
    return ContestInfo(
        row["id"],
        row["slug"],
        row["title"],
        row["description"],
        row["time_limit_seconds"],
        sum(quotas.values()),
        [
            RoundInfo(
                r["id"],
                r["number"],
                r["title"],
                r["opens_at"],
                r["closes_at"],
                r["max_attempts"],
                r["results_published_at"] is not None,
                r["stop_reason"] if r["stopped_at"] is not None else None,
                r["suspend_reason"] if r["suspended_at"] is not None else None,
            )  # fmt: skip
            for r in rounds
        ],
        list(row["groups"] or []),
        bool(row.get("partial_credit")),
        row.get("collectives") == "units",
    )


async def published_id(slug: str) -> int | None:
    """The id of a published contest: all that a registration or identification over the API needs of it."""
    found = await db.fetch("SELECT id FROM contest WHERE slug = $1 AND published", slug)
    return int(found[0]["id"]) if found else None


async def contest_by_slug(slug: str) -> ContestInfo | None:
    """One published contest with its rounds in order, as contestants see it (no drafts)."""
    # Plain SQL, not a Piccolo query: every registration and start reads it, and building the query cost more than
    # running it (py-spy under the load test).
    found = await db.fetch("SELECT * FROM contest WHERE slug = $1 AND published", slug)
    if not found:
        return None
    row = dict(found[0])
    rounds = await db.fetch("SELECT * FROM round WHERE contest = $1 AND state <> 'draft' ORDER BY number", row["id"])
    return _info(row, [dict(r) for r in rounds])


async def current_contests() -> list[ContestInfo]:
    """Contests with a round open now or still to come, soonest closing first."""
    now = clock.now()
    rows = await Contest.select().where(Contest.published == True)  # noqa: E712
    rounds = await Round.select().where(Round.state != "draft").order_by(Round.number)
    out = []
    for row in rows:
        info = _info(row, [r for r in rounds if r["contest"] == row["id"]])
        if any(r.state(now) != "closed" for r in info.rounds):
            out.append(info)
    return out


async def round_of(round_id: int) -> dict | None:
    return (
        await Round.select(*Round.all_columns(), Round.contest.slug.as_alias("contest_slug")).where(Round.id == round_id).first()
    )


# ---- what organisers read ---------------------------------------------------------------------------


async def contests() -> list[dict]:
    """Every contest, newest first, with its round count."""
    return await db.raw(
        "SELECT c.id, c.slug, c.title, c.published, (SELECT count(*) FROM round r WHERE r.contest = c.id) AS rounds "
        "FROM contest c ORDER BY c.id DESC"
    )


async def contest_row(contest_id: int) -> dict:
    """One contest, drafts included, its quotas parsed; an input error if there is none."""
    row = await Contest.select().where(Contest.id == contest_id).first()
    if row is None:
        raise InputError({"contest": "contest_not_found"})
    row["quotas"] = parse_quotas(row["quotas"])
    return row


async def round_row(round_id: int) -> dict:
    """A round with its contest's slug and title, its quotas parsed and whether it has real attempts."""
    rows = await db.raw(
        "SELECT r.*, c.slug AS contest_slug, c.title AS contest_title, c.quotas AS contest_quotas, "
        "c.time_limit_seconds AS contest_time_limit, c.published AS contest_published, "
        "EXISTS (SELECT 1 FROM attempt a WHERE a.round = r.id AND NOT a.preview) AS has_attempts "
        "FROM round r JOIN contest c ON c.id = r.contest WHERE r.id = {}",
        round_id,
    )
    if not rows:
        raise InputError({"round": "round_not_found"})
    row = rows[0]
    row["quotas"] = parse_quotas(row["quotas"]) if row["quotas"] is not None else None
    row["contest_quotas"] = parse_quotas(row["contest_quotas"])
    row["prizes"] = json.loads(row["prizes"]) if isinstance(row["prizes"], str) else row["prizes"]
    row["draw"] = row["quotas"] if row["quotas"] is not None else row["contest_quotas"]
    row["time_limit"] = row["time_limit_seconds"] or row["contest_time_limit"]
    return row


async def rounds_of(contest_id: int) -> list[dict]:
    """Every round of a contest, drafts included, in order."""
    return await Round.select().where(Round.contest == contest_id).order_by(Round.number)


def round_phase(row: Mapping[str, Any], now: datetime) -> str:
    """draft, upcoming, open, closed or results: what an organiser sees."""
    if row["state"] != "published":
        return str(row["state"])
    return "upcoming" if now < row["opens_at"] else "open" if now < row["closes_at"] else "closed"
