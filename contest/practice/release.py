"""What organisers do for practice: practice sets, and releasing questions for practice (or withdrawing them).

The rules that keep a released question's key away from live contests are in `practice/service.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contest import clock, db
from contest.contests.builder import bank_can_fill, read_quotas
from contest.contests.service import round_row
from contest.contests.tables import Contest
from contest.db import engine
from contest.digits import is_digits, read_int
from contest.i18n import InputError
from contest.practice.service import (
    HOLDING_ROUNDS,
    MAX_RUN,
    PUBLIC_AFTER,
    SHOWABLE,
    holding_params,
    set_of,
    showable,
    showable_params,
)
from contest.practice.tables import PracticeSet
from contest.staff.audit import audit
from contest.staff.signin import StaffUser
from contest.text import nfc

# ---- sets -------------------------------------------------------------------------------------------


def read_set(form: Mapping[str, Any], topic_slugs: list[str]) -> dict[str, Any]:
    """A practice set's form as column values."""
    title = nfc(str(form.get("title", "")))
    if not 3 <= len(title) <= 200:
        raise InputError({"title": "title_required"})
    quotas = read_quotas(form)
    unknown = [k for k in quotas if k not in topic_slugs]
    if unknown:
        raise InputError({"quotas": "practice_quota_topic"}, topic=unknown[0])
    if not quotas:
        raise InputError({"quotas": "quotas_required"})
    if sum(quotas.values()) > MAX_RUN:
        raise InputError({"quotas": "practice_too_many"}, max=MAX_RUN)
    contest = str(form.get("contest", "")).strip()
    if contest and not is_digits(contest):
        raise InputError({"contest": "practice_contest_invalid"})
    return {
        "title": title,
        "description": nfc(str(form.get("description", ""))),
        "quotas": quotas,
        "contest": int(contest) if contest else None,
    }


async def save_set(actor: StaffUser, values: dict[str, Any], set_id: int | None = None) -> int:
    """Create or edit a practice set (it stays as published or not as it was; a new one starts unpublished)."""
    if values["contest"] is not None and not await Contest.exists().where(Contest.id == values["contest"]):
        raise InputError({"contest": "practice_contest_invalid"})
    columns = {**values, "quotas": json.dumps(values["quotas"]), "updated_at": clock.now()}
    if set_id is None:
        rows = await PracticeSet.insert(PracticeSet(**columns, created_at=clock.now(), published=False)).returning(PracticeSet.id)
        set_id = int(rows[0]["id"])
        await audit(actor.id, "practice.create", f"practice:{set_id}", **values)
        return set_id
    if await set_of(set_id, published_only=False) is None:
        raise InputError({"practice": "practice_not_found"})
    await PracticeSet.update(columns).where(PracticeSet.id == set_id)  # type: ignore[arg-type]
    await audit(actor.id, "practice.edit", f"practice:{set_id}", **values)
    return set_id


async def set_published(actor: StaffUser, set_id: int, published: bool) -> None:
    """Publish a set (only when it has questions to show) or take it down."""
    info = await set_of(set_id, published_only=False)
    if info is None:
        raise InputError({"practice": "practice_not_found"})
    if published and not await showable(list(info.quotas)):
        raise InputError({"practice": "practice_empty"})
    await PracticeSet.update({PracticeSet.published: published, PracticeSet.updated_at: clock.now()}).where(
        PracticeSet.id == set_id
    )
    await audit(actor.id, "practice.publish" if published else "practice.unpublish", f"practice:{set_id}")


# ---- releasing questions ----------------------------------------------------------------------------


@dataclass
class BankQuestion:
    id: int
    text: str
    difficulty: int
    practice_since: datetime | None
    state: str  # contest, waiting, held, shown
    held_until: datetime | None = None
    topic: str = field(default="")


async def bank_questions(topic: str) -> list[BankQuestion]:
    """A topic's active questions with where each stands: in contests, released (waiting, held back, shown)."""
    now = clock.now()
    released_before = now - PUBLIC_AFTER
    rows = await db.raw(
        "SELECT q.id, q.text, q.difficulty, q.practice_since, (SELECT max(h.closes_at) FROM (" + HOLDING_ROUNDS + ") h) "
        "AS held_until FROM question q JOIN topic t ON t.id = q.topic WHERE q.active AND t.slug = {} ORDER BY q.id",
        *holding_params(now),
        topic,
    )
    out = []
    for r in rows:
        since = r["practice_since"]
        state = (
            "contest"
            if since is None
            else "held"
            if r["held_until"] is not None
            else "waiting"
            if since > released_before
            else "shown"
        )
        out.append(BankQuestion(r["id"], r["text"], r["difficulty"], since, state, r["held_until"], topic))
    return out


async def practice_counts() -> dict[str, dict[str, int]]:
    """Per topic slug: questions released for practice, and how many of them practice may show now."""
    rows = await db.raw(
        "SELECT t.slug, count(*) AS released, count(*) FILTER (WHERE " + SHOWABLE + ") AS shown "
        "FROM question q JOIN topic t ON t.id = q.topic WHERE q.active AND q.practice_since IS NOT NULL GROUP BY t.slug",
        *showable_params(clock.now()),
    )
    return {r["slug"]: {"released": int(r["released"]), "shown": int(r["shown"])} for r in rows}


def _ids(values: list[str]) -> list[int]:
    ids = sorted({n for n in map(read_int, values) if n is not None and n < 2**31})
    if not ids:
        raise InputError({"questions": "practice_none_chosen"})
    return ids


async def release(actor: StaffUser, question_ids: list[str]) -> int:
    """Release questions for practice: contests stop drawing them, and their key becomes public a little later.

    Refused when an open or upcoming round could then no longer fill its draw (contestants could not start).
    """
    ids = _ids(question_ids)
    now = clock.now()
    async with engine().transaction():
        # FOR UPDATE waits for starts drawing these questions (their attempt items lock the rows), as edits do.
        rows = await db.raw("SELECT id, active, practice_since FROM question WHERE id = ANY({}) FOR UPDATE", ids)
        inactive = [r["id"] for r in rows if not r["active"]]
        if inactive or len(rows) != len(ids):
            raise InputError({"questions": "practice_release_inactive"}, question=(inactive or ids)[0])
        fresh = [r["id"] for r in rows if r["practice_since"] is None]
        await db.raw("UPDATE question SET practice_since = {} WHERE id = ANY({})", now, fresh)
        live = await db.raw("SELECT id FROM round WHERE state = 'published' AND closes_at > {} ORDER BY opens_at, id", now)
        for rnd in live:
            row = await round_row(rnd["id"])
            short = await bank_can_fill(row["draw"])
            if short:
                raise InputError(
                    {"questions": "practice_release_short"},
                    round=f"{row['contest_title']} – {row['title']}",
                    topic=short[0].topic,
                    wanted=short[0].wanted,
                    available=short[0].available,
                )
        await audit(actor.id, "practice.release", "questions", ids=fresh)
    return len(fresh)


async def withdraw(actor: StaffUser, question_ids: list[str]) -> int:
    """Undo a release while its key has not been public: within PUBLIC_AFTER, or while a live round holds it back.

    Once practice may have shown it, it stays out of contests for good.
    """
    ids = _ids(question_ids)
    now = clock.now()
    released_before = now - PUBLIC_AFTER
    async with engine().transaction():
        rows = await db.raw(
            "SELECT q.id, q.practice_since, EXISTS ("
            + HOLDING_ROUNDS
            + ") AS held FROM question q WHERE q.id = ANY({}) FOR UPDATE",
            *holding_params(now),
            ids,
        )
        public = [
            r["id"] for r in rows if r["practice_since"] is not None and r["practice_since"] <= released_before and not r["held"]
        ]
        if public:
            raise InputError({"questions": "practice_withdraw_public"}, question=public[0])
        back = [r["id"] for r in rows if r["practice_since"] is not None]
        await db.raw("UPDATE question SET practice_since = NULL WHERE id = ANY({})", back)
        await audit(actor.id, "practice.withdraw", "questions", ids=back)
    return len(back)
