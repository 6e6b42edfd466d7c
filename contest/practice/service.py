"""Practice (thi thử) and flashcards: drawn only from questions an organiser released for practice.

The rule that keeps live contests safe: a question's answer key reaches a browser through practice only when
  1. an organiser released it for practice (`question.practice_since`), and contest draws never take such a
     question again (attempts/starting.py skips it), so its public key cannot help anyone in a round;
  2. the release is at least PUBLIC_AFTER old, longer than a web process caches the bank for draws, so a
     draw made from a stale cache has been written down before the key is shown;
  3. no round that may still take answers (closing time plus grace not yet passed) has it in a contestant's
     attempt: a question drawn before its release stays hidden until those rounds have closed;
  4. it is active.
Practice writes nothing but the set itself: a practice run lives in the browser's cookie session.
This module is what contestants do (sets, runs, flashcards); organisers' sets and releases are in `release.py`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contest import clock, db
from contest.attempts.starting import BANK_TTL
from contest.contests.builder import topics
from contest.contests.service import parse_quotas
from contest.i18n import InputError
from contest.settings import get_settings

PUBLIC_AFTER = timedelta(seconds=2 * BANK_TTL)
MAX_RUN = 50  # questions in one practice run: a cookie holds them, and nobody practises longer in one go
_rng = random.SystemRandom()

# Rule 3: the rounds still taking answers that drew question q into a contestant's attempt; parameters: (rounds
# closing after, PUBLIC_AFTER). Only a round open before q stopped being drawn (released + PUBLIC_AFTER; a round's
# opening is frozen once it has an attempt) can have drawn it: that bound keeps the costly look through attempt
# items, tens of thousands for a question of a big contest, to the rare question released while such a round runs.
HOLDING_ROUNDS = (
    "SELECT r.closes_at FROM round r WHERE r.closes_at > {} AND r.opens_at < q.practice_since + {}::interval "
    "AND EXISTS (SELECT 1 FROM attempt_item i JOIN attempt a ON a.id = i.attempt "
    "WHERE i.question = q.id AND a.round = r.id AND NOT a.preview)"
)
# Rules 2-4, for a question aliased q; parameters: (released before, *HOLDING_ROUNDS's).
SHOWABLE = "q.active AND q.practice_since <= {} AND NOT EXISTS (" + HOLDING_ROUNDS + ")"


def holding_params(now: datetime) -> tuple[datetime, timedelta]:
    """HOLDING_ROUNDS's parameters at this moment."""
    return now - timedelta(seconds=get_settings().contest.grace_seconds), PUBLIC_AFTER


def showable_params(now: datetime) -> tuple[datetime, datetime, timedelta]:
    """SHOWABLE's parameters at this moment."""
    return now - PUBLIC_AFTER, *holding_params(now)


@dataclass
class SetInfo:
    id: int
    title: str
    description: str
    quotas: dict[str, int]
    published: bool
    contest_id: int | None = None
    contest_slug: str | None = None
    contest_title: str | None = None
    # The contest's look (routes fill it in): its theme's fingerprinted address, cached for a year.
    look: Any = None

    @property
    def size(self) -> int:
        return sum(self.quotas.values())


def _set_info(row: Mapping[str, Any]) -> SetInfo:
    return SetInfo(
        row["id"],
        row["title"],
        row["description"],
        parse_quotas(row["quotas"]),
        row["published"],
        row["contest"],
        row.get("contest_slug"),
        row.get("contest_title"),
    )


_SETS = (
    "SELECT s.*, c.slug AS contest_slug, c.title AS contest_title FROM practice_set s "
    "LEFT JOIN contest c ON c.id = s.contest AND c.published"
)


async def sets(published_only: bool = True, contest_id: int | None = None) -> list[SetInfo]:
    """Practice sets, newest first: published ones for the public, all of them for organisers."""
    rows = await db.raw(
        _SETS + " WHERE (s.published OR NOT {}) AND ({}::int IS NULL OR s.contest = {}) ORDER BY s.id DESC",
        published_only,
        contest_id,
        contest_id,
    )
    return [_set_info(r) for r in rows]


async def set_of(set_id: int, published_only: bool = True) -> SetInfo | None:
    """One practice set (only if published, unless asked for an organiser)."""
    rows = await db.raw(_SETS + " WHERE s.id = {} AND (s.published OR NOT {})", set_id, published_only)
    return _set_info(rows[0]) if rows else None


async def showable(topic_slugs: list[str], question_ids: list[int] | None = None) -> list[dict]:
    """Questions practice may show now, in these topics (or these ids), easiest first."""
    rows = await db.raw(
        "SELECT q.id, q.text, q.explanation, q.image, q.difficulty, t.slug AS topic FROM question q "
        "JOIN topic t ON t.id = q.topic WHERE " + SHOWABLE + " AND (t.slug = ANY({}) OR q.id = ANY({})) "
        "ORDER BY q.difficulty, q.id",
        *showable_params(clock.now()),
        topic_slugs,
        question_ids or [],
    )
    return rows


async def topics_of(info: SetInfo) -> list[dict]:
    """The set's topics with their names and how many flashcards each has now."""
    names = {t["slug"]: t["name"] for t in await topics()}
    counts: dict[str, int] = {}
    for row in await showable(list(info.quotas)):
        counts[row["topic"]] = counts.get(row["topic"], 0) + 1
    return [{"slug": s, "name": names.get(s, s), "cards": counts.get(s, 0)} for s in info.quotas]


# ---- a practice run ---------------------------------------------------------------------------------


async def draw(info: SetInfo) -> list[tuple[int, list[int]]]:
    """A fresh practice run: up to the set's quota per topic from what may be shown, in random order, options shuffled."""
    pool = await showable(list(info.quotas))
    chosen: list[int] = []
    for topic, wanted in info.quotas.items():
        candidates = [r["id"] for r in pool if r["topic"] == topic]
        chosen += _rng.sample(candidates, min(wanted, len(candidates)))
    if not chosen:
        raise InputError({"practice": "practice_empty"})
    chosen = chosen[:MAX_RUN]
    _rng.shuffle(chosen)
    options: dict[int, list[int]] = {q: [] for q in chosen}
    for row in await db.raw("SELECT id, question FROM option WHERE question = ANY({}) ORDER BY id", chosen):
        options[row["question"]].append(row["id"])
    for ids in options.values():
        _rng.shuffle(ids)
    return [(q, options[q]) for q in chosen]


@dataclass
class PracticeQuestion:
    id: int
    text: str
    image: str | None
    options: list[tuple[int, str]]


@dataclass
class Feedback:
    question: PracticeQuestion
    right: bool
    chosen: str
    answers: list[str]
    explanation: str


async def _question(question_id: int, option_ids: list[int]) -> tuple[dict, dict[int, dict]] | None:
    shown = await showable([], [question_id])
    if not shown:
        return None
    rows = await db.raw("SELECT id, text, is_correct FROM option WHERE question = {}", question_id)
    options = {r["id"]: r for r in rows if r["id"] in option_ids}
    return shown[0], options


async def practice_question(question_id: int, option_ids: list[int]) -> PracticeQuestion | None:
    """A drawn question as shown (options in the run's order), or None if practice may no longer show it."""
    found = await _question(question_id, option_ids)
    if found is None:
        return None
    row, options = found
    return PracticeQuestion(row["id"], row["text"], row["image"], [(o, options[o]["text"]) for o in option_ids if o in options])


async def feedback(question_id: int, option_ids: list[int], chosen: int) -> Feedback:
    """Whether the chosen option is right, the right answers and the explanation: shown at once in practice."""
    found = await _question(question_id, option_ids)
    if found is None:
        raise InputError({"practice": "practice_gone"})
    row, options = found
    if chosen not in options:
        raise InputError({"option": "option_invalid"})
    answers = [options[o]["text"] for o in option_ids if o in options and options[o]["is_correct"]]
    question = PracticeQuestion(
        row["id"], row["text"], row["image"], [(o, options[o]["text"]) for o in option_ids if o in options]
    )
    return Feedback(question, options[chosen]["is_correct"], options[chosen]["text"], answers, row["explanation"])


# ---- flashcards -------------------------------------------------------------------------------------


@dataclass
class FlashCard:
    id: int
    text: str
    image: str | None
    options: list[str]
    answers: list[str]
    explanation: str


async def cards(info: SetInfo, topic: str) -> list[FlashCard]:
    """Every question of one of the set's topics practice may show: question on the front, key on the back."""
    if topic not in info.quotas:
        return []
    rows = [r for r in await showable([topic]) if r["topic"] == topic]
    options: dict[int, list[dict]] = {r["id"]: [] for r in rows}
    for o in await db.raw(
        "SELECT question, text, is_correct FROM option WHERE question = ANY({}) ORDER BY position", list(options)
    ):
        options[o["question"]].append(o)
    return [
        FlashCard(
            r["id"],
            r["text"],
            r["image"],
            [o["text"] for o in options[r["id"]]],
            [o["text"] for o in options[r["id"]] if o["is_correct"]],
            r["explanation"],
        )
        for r in rows
    ]
