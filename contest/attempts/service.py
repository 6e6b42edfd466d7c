"""Taking a contest: start (draw questions), save each answer, submit; the server keeps the time."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import asyncpg

from contest import clock, db
from contest.contests.service import parse_quotas
from contest.contests.tables import IN_AREA, IN_GROUPS
from contest.db import engine
from contest.digits import is_digits, read_int
from contest.grouped import GroupWriter
from contest.i18n import InputError
from contest.scoring.queue import schedule_auto_submit
from contest.settings import get_settings

_rng = random.SystemRandom()
# Per web process, on purpose: with N processes a bank edit reaches every draw within _BANK_TTL all the same (a
# deactivated question may be drawn that long; questions are never deleted, and an attempt keeps what it drew).
_bank_cache: dict[tuple[str, ...], tuple[float, dict[str, list[int]]]] = {}
_BANK_TTL = 30.0


def _grace() -> timedelta:
    return timedelta(seconds=get_settings().contest.grace_seconds)


def _draw_key(key: str) -> tuple[str, int | None]:
    """ "online_safety" -> ("online_safety", None); "online_safety:3" -> ("online_safety", 3)."""
    topic, _, difficulty = key.partition(":")
    return topic, read_int(difficulty)


async def _question_ids(keys: tuple[str, ...]) -> dict[str, list[int]]:
    """Active question ids per draw key, cached briefly: starts spike, banks change rarely."""
    hit = _bank_cache.get(keys)
    if hit and time.monotonic() - hit[0] < _BANK_TTL:
        return hit[1]
    topics = sorted({_draw_key(k)[0] for k in keys})
    rows = await db.raw(
        # Never a practice question: its key is public (contest/practice/service.py).
        "SELECT q.id, t.slug, q.difficulty FROM question q JOIN topic t ON t.id = q.topic "
        "WHERE q.active AND q.practice_since IS NULL AND t.slug = ANY({})",
        topics,
    )
    by_key: dict[str, list[int]] = {k: [] for k in keys}
    for key in keys:
        topic, difficulty = _draw_key(key)
        by_key[key] = [r["id"] for r in rows if r["slug"] == topic and difficulty in (None, r["difficulty"])]
    _bank_cache[keys] = (time.monotonic(), by_key)
    return by_key


async def draw_questions(quotas: dict[str, int]) -> list[tuple[int, list[int]]]:
    """Draw questions by quota per topic (or topic:difficulty), in random order, options shuffled."""
    bank = await _question_ids(tuple(sorted(quotas)))
    chosen: list[int] = []
    # Difficulty-specific keys first, so a whole-topic key cannot use up what they need.
    for key, n in sorted(quotas.items(), key=lambda kv: ":" not in kv[0]):
        candidates = [q for q in bank[key] if q not in chosen]
        if len(candidates) < n:
            raise InputError({"round": "bank_too_small"}, topic=key)
        chosen += _rng.sample(candidates, n)
    _rng.shuffle(chosen)
    rows = await db.raw("SELECT id, question FROM option WHERE question = ANY({})", chosen)
    options: dict[int, list[int]] = {q: [] for q in chosen}
    for row in rows:
        options[row["question"]].append(row["id"])
    for ids in options.values():
        _rng.shuffle(ids)
    return [(q, options[q]) for q in chosen]


async def start_attempt(contestant_id: int, round_id: int) -> int:
    """Start an attempt, or return the open one (same deadline). Enforces the round window and attempt limit."""
    now = clock.now()
    async with engine().transaction():
        # One start at a time per contestant, so double taps cannot pass the limit or open two attempts.
        await db.raw("SELECT pg_advisory_xact_lock({})", contestant_id)
        rounds = await db.raw(
            "SELECT r.id, r.opens_at, r.closes_at, r.max_attempts, coalesce(r.quotas, c.quotas) AS quotas, "
            f"coalesce(r.time_limit_seconds, c.time_limit_seconds) AS time_limit_seconds, {IN_AREA} AS place_ok, "
            f"{IN_GROUPS} AS group_ok, r.stopped_at, r.stop_reason, r.suspended_at, r.suspend_reason "
            "FROM round r JOIN contest c ON c.id = r.contest JOIN contestant p ON p.contest = c.id "
            "JOIN commune m ON m.code = p.commune "
            # An erased (anonymised) registration takes no more attempts.
            "WHERE r.id = {} AND p.id = {} AND r.state <> 'draft' AND c.published AND p.erased_at IS NULL "
            # Held until this start commits: an organiser closing the round now waits for it (contests/stopping.py).
            "FOR KEY SHARE OF r",
            round_id,
            contestant_id,
        )
        if not rounds or not rounds[0]["opens_at"] <= now < rounds[0]["closes_at"]:
            raise InputError({"round": "round_not_open"})
        rnd = rounds[0]
        # Who registered before the organiser narrowed the contest cannot start under the new rules.
        if not rnd["place_ok"]:
            raise InputError({"round": "not_eligible_place"})
        if not rnd["group_ok"]:
            raise InputError({"round": "not_eligible_group"})
        current = await db.raw("SELECT id, deadline FROM attempt WHERE contestant = {} AND status = 'open'", contestant_id)
        resumable = [int(row["id"]) for row in current if row["deadline"] + _grace() >= now]
        if resumable:
            return resumable[0]
        # An attempt in progress may be finished; a new one is refused while the organiser has stopped the round.
        if rnd["stopped_at"] is not None:
            raise InputError({"round": "round_stopped"}, reason=rnd["stop_reason"])
        if rnd["suspended_at"] is not None:
            raise InputError({"round": "round_suspended"}, reason=rnd["suspend_reason"])
        if current:
            await close_expired(now, contestant_id)
        used = await db.raw("SELECT count(*) AS n FROM attempt WHERE contestant = {} AND round = {}", contestant_id, round_id)
        if used[0]["n"] >= rnd["max_attempts"]:
            raise InputError({"round": "attempt_limit"}, max=rnd["max_attempts"])
        deadline = min(now + timedelta(seconds=rnd["time_limit_seconds"]), rnd["closes_at"])
        attempt_id = await create_attempt(round_id, contestant_id, parse_quotas(rnd["quotas"]), now, deadline)
    await schedule_auto_submit(deadline)
    return attempt_id


async def create_attempt(
    round_id: int, contestant_id: int, quotas: dict[str, int], now: datetime, deadline: datetime, preview: bool = False
) -> int:
    """Draw the questions and store the attempt with its items (the caller checked the rules)."""
    drawn = await draw_questions(quotas)
    inserted = await db.raw(
        "INSERT INTO attempt (round, contestant, status, started_at, deadline, auto_submitted, total, preview) "
        "VALUES ({}, {}, 'open', {}, {}, false, {}, {}) RETURNING id",
        round_id,
        contestant_id,
        now,
        deadline,
        len(drawn),
        preview,
    )
    attempt_id = int(inserted[0]["id"])
    await db.raw(
        "INSERT INTO attempt_item (attempt, position, question, option_ids) "
        "SELECT {}, p, q, string_to_array(o, ',')::int[] FROM unnest({}::int[], {}::int[], {}::text[]) AS t(p, q, o)",
        attempt_id,
        list(range(1, len(drawn) + 1)),
        [q for q, _ in drawn],
        [",".join(map(str, opts)) for _, opts in drawn],
    )
    return attempt_id


async def close_expired(now: datetime | None = None, contestant_id: int | None = None) -> int:
    """Auto-submit attempts whose deadline and grace have passed (one contestant's, or all); stamped at the deadline."""
    now = now or clock.now()
    rows = await db.raw(
        "UPDATE attempt SET status = 'submitted', submitted_at = deadline, auto_submitted = true, "
        "duration_ms = (extract(epoch FROM deadline - started_at) * 1000)::int "
        "WHERE status = 'open' AND deadline < {} AND ({}::bigint IS NULL OR contestant = {}) RETURNING id",
        now - _grace(),
        contestant_id,
        contestant_id,
    )
    return len(rows)


@dataclass
class ItemView:
    position: int
    text: str
    options: list[tuple[int, str]]
    chosen: int | None
    image: str | None = None
    # Several options are correct: checkboxes, "choose all that apply"; `ticked` holds what is ticked.
    multiple: bool = False
    ticked: list[int] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return bool(self.ticked) if self.multiple else self.chosen is not None


@dataclass
class AttemptView:
    id: int
    round_id: int
    contestant_id: int
    status: str
    deadline: datetime
    seconds_left: int
    prediction: int | None
    ask_prediction: bool = True
    items: list[ItemView] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.answered)


async def attempt_view(attempt_id: int, contestant_id: int, with_items: bool = True) -> AttemptView:
    """The attempt as its contestant sees it: questions and options in their order, never the key."""
    rows = await db.raw(
        "SELECT a.id, a.round, a.contestant, a.status, a.deadline, a.prediction, r.ask_prediction "
        "FROM attempt a JOIN round r ON r.id = a.round WHERE a.id = {} AND a.contestant = {}",
        attempt_id,
        contestant_id,
    )
    if not rows:
        raise InputError({"attempt": "attempt_not_found"})
    a = rows[0]
    left = max(0, int((a["deadline"] - clock.now()).total_seconds())) if a["status"] == "open" else 0
    view = AttemptView(
        a["id"], a["round"], a["contestant"], a["status"], a["deadline"], left, a["prediction"], a["ask_prediction"]
    )
    if with_items:
        items = await db.raw(
            "SELECT i.position, i.option_ids, i.chosen, i.chosen_set, q.text, q.image FROM attempt_item i "
            "JOIN question q ON q.id = i.question WHERE i.attempt = {} ORDER BY i.position",
            attempt_id,
        )
        option_ids = [o for item in items for o in item["option_ids"]]
        # Only whether a question has several correct options leaves the server here, never which ones.
        rows = await db.raw("SELECT id, text, is_correct FROM option WHERE id = ANY({})", option_ids)
        texts = {r["id"]: r["text"] for r in rows}
        right = {r["id"] for r in rows if r["is_correct"]}
        view.items = [
            ItemView(
                i["position"],
                i["text"],
                [(o, texts[o]) for o in i["option_ids"]],
                i["chosen"],
                i["image"],
                multiple=sum(o in right for o in i["option_ids"]) > 1,
                ticked=list(i["chosen_set"] or []),
            )
            for i in items
        ]
    return view


MAX_CHOICES = 26  # more ticks than any question has options is never a real answer

_SAVE_ANSWERS = """
WITH given AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[], $5::timestamptz[], $6::timestamptz[])
        AS t(attempt, contestant, position, option, at, not_before)
)
UPDATE attempt_item i SET chosen = g.option, answered_at = g.at
FROM given g JOIN attempt a ON a.id = g.attempt AND a.contestant = g.contestant
WHERE a.status = 'open' AND a.deadline >= g.not_before
  AND i.attempt = a.id AND i.position = g.position AND g.option = ANY(i.option_ids)
RETURNING i.attempt, i.position
"""


def _crossed(exc: Exception) -> bool:
    """A deadlock with another web process's group: PostgreSQL undid this statement, so writing it again is safe."""
    return isinstance(exc, asyncpg.DeadlockDetectedError)


# (attempt, contestant, position, option, answered at, answered at minus grace)
AnswerRow = tuple[int, int, int, int, datetime, datetime]


async def _save_answers(rows: list[AnswerRow]) -> list[bool]:
    stored = {(r["attempt"], r["position"]) for r in await db.fetch(_SAVE_ANSWERS, *map(list, zip(*rows, strict=True)))}
    return [(row[0], row[2]) in stored for row in rows]


_answer_writer: GroupWriter[AnswerRow, bool] = GroupWriter(_save_answers, key=lambda row: (row[0], row[2]), retry_if=_crossed)


async def save_answer(attempt_id: int, contestant_id: int, position: int, option_id: int) -> None:
    """Store one answer the moment it is given (committed before this returns), within deadline + grace."""
    now = clock.now()
    if not await _answer_writer((attempt_id, contestant_id, position, option_id, now, now - _grace())):
        await _explain_refusal(attempt_id, contestant_id, position, now)
        raise InputError({"option": "option_invalid"})


_SAVE_CHOICES = """
UPDATE attempt_item i SET chosen_set = $4::int[], chosen = NULL, answered_at = $5
FROM attempt a
WHERE a.id = $1 AND a.contestant = $2 AND a.status = 'open' AND a.deadline >= $6
  AND i.attempt = a.id AND i.position = $3 AND $4::int[] <@ i.option_ids
RETURNING i.id
"""


async def save_choices(attempt_id: int, contestant_id: int, position: int, option_ids: list[int]) -> None:
    """Store what is ticked on a choose-all-that-apply question (the whole set, so each change is one request);
    an empty set unticks all. Within deadline + grace, like save_answer."""
    now = clock.now()
    chosen = sorted(set(option_ids))
    if len(chosen) > MAX_CHOICES or not await db.fetch(
        _SAVE_CHOICES, attempt_id, contestant_id, position, chosen, now, now - _grace()
    ):
        await _explain_refusal(attempt_id, contestant_id, position, now)
        raise InputError({"option": "option_invalid"})


async def _explain_refusal(attempt_id: int, contestant_id: int, position: int, now: datetime) -> None:
    """Why a write was refused (the slow path only)."""
    rows = await db.raw(
        "SELECT a.status, a.deadline, (SELECT count(*) FROM attempt_item i WHERE i.attempt = a.id AND i.position = {}) "
        "AS has_item FROM attempt a WHERE a.id = {} AND a.contestant = {}",
        position,
        attempt_id,
        contestant_id,
    )
    if not rows:
        raise InputError({"attempt": "attempt_not_found"})
    if rows[0]["status"] != "open" or rows[0]["deadline"] < now - _grace():
        raise InputError({"attempt": "attempt_closed"})
    if not rows[0]["has_item"]:
        raise InputError({"position": "position_invalid"})


MAX_PREDICTION = 100_000_000


def parse_prediction(raw: str | int | None) -> int | None:
    """The prediction as a whole number, None when left empty; InputError when not a number in range."""
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip().replace(".", "").replace(",", "").replace(" ", "")
    if not is_digits(text) or int(text) > MAX_PREDICTION:
        raise InputError({"prediction": "prediction_invalid"})
    return int(text)


async def save_prediction(attempt_id: int, contestant_id: int, value: int | None) -> None:
    """Store the answer to the prediction question (the tiebreak), within deadline + grace."""
    now = clock.now()
    rows = await db.fetch(
        "UPDATE attempt SET prediction = $1 WHERE id = $2 AND contestant = $3 AND status = 'open' AND deadline >= $4 "
        "RETURNING id",
        value,
        attempt_id,
        contestant_id,
        now - _grace(),
    )
    if not rows:
        await _explain_refusal(attempt_id, contestant_id, 1, now)


_SUBMIT = """
WITH given AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS t(attempt, contestant, at))
UPDATE attempt SET status = 'submitted',
    auto_submitted = deadline + $4::interval < g.at,
    submitted_at = CASE WHEN deadline + $4::interval < g.at THEN deadline ELSE g.at END,
    duration_ms = (extract(epoch FROM LEAST(g.at, deadline) - started_at) * 1000)::int
FROM given g
WHERE attempt.id = g.attempt AND attempt.contestant = g.contestant AND attempt.status = 'open'
RETURNING attempt.id, total, duration_ms, auto_submitted,
    -- No retake once the round has closed.
    coalesce((SELECT r.max_attempts FROM round r WHERE r.id = attempt.round AND r.closes_at > g.at), 0)
    - (SELECT count(*) FROM attempt x WHERE x.round = attempt.round AND x.contestant = attempt.contestant)
    AS attempts_left
"""


@dataclass
class Submitted:
    """What a fresh submit knows without another query; `first` is False for a repeated submit."""

    first: bool
    total: int = 0
    duration_ms: int = 0
    auto_submitted: bool = False
    attempts_left: int = 0


async def _submit_many(rows: list[tuple[int, int, datetime]]) -> list[Submitted | None]:
    attempts, contestants, times = map(list, zip(*rows, strict=True))
    done = {r["id"]: r for r in await db.fetch(_SUBMIT, attempts, contestants, times, _grace())}
    return [
        Submitted(True, r["total"], r["duration_ms"], r["auto_submitted"], max(0, r["attempts_left"]))
        if (r := done.get(row[0])) is not None
        else None
        for row in rows
    ]


_submit_writer: GroupWriter[tuple[int, int, datetime], Submitted | None] = GroupWriter(
    _submit_many, key=lambda row: row[0], retry_if=_crossed
)


async def submit(attempt_id: int, contestant_id: int) -> Submitted:
    """Submit once: later calls change nothing (first=False), and only the first must kick scoring.

    Within deadline + grace the server stamps now (time taken stops at the deadline);
    later, the attempt counts as closed at its deadline.
    """
    fresh = await _submit_writer((attempt_id, contestant_id, clock.now()))
    if fresh is not None:
        return fresh
    exists = await db.fetch("SELECT 1 FROM attempt WHERE id = $1 AND contestant = $2", attempt_id, contestant_id)
    if not exists:
        raise InputError({"attempt": "attempt_not_found"})
    return Submitted(False)


async def attempts_of(contestant_id: int, round_id: int) -> list[dict]:
    """A contestant's attempts in a round, oldest first."""
    return await db.raw(
        "SELECT id, status, correct, total, duration_ms, submitted_at FROM attempt "
        "WHERE contestant = {} AND round = {} ORDER BY id",
        contestant_id,
        round_id,
    )


@dataclass
class ReviewItem:
    position: int
    text: str
    options: list[tuple[str, bool, bool]]  # (text, chosen, correct)
    explanation: str

    @property
    def right(self) -> bool:
        """All or nothing, as scoring counts it: what was chosen is exactly the correct options (one, or all of several)."""
        return all(chosen == correct for _, chosen, correct in self.options)

    @property
    def multiple(self) -> bool:
        return sum(correct for _, _, correct in self.options) > 1


async def review(attempt_id: int, contestant_id: int) -> list[ReviewItem] | None:
    """The attempt with the key and explanations, once its round has closed (None before: the key stays hidden)."""
    rows = await db.raw(
        "SELECT i.position, q.text, q.explanation, i.chosen, i.chosen_set, i.option_ids, r.closes_at FROM attempt a "
        "JOIN round r ON r.id = a.round JOIN attempt_item i ON i.attempt = a.id JOIN question q ON q.id = i.question "
        "WHERE a.id = {} AND a.contestant = {} AND a.status <> 'open' ORDER BY i.position",
        attempt_id,
        contestant_id,
    )
    if not rows or clock.now() < rows[0]["closes_at"]:
        return None
    option_ids = [o for row in rows for o in row["option_ids"]]
    options = {r["id"]: r for r in await db.raw("SELECT id, text, is_correct FROM option WHERE id = ANY({})", option_ids)}
    return [
        ReviewItem(
            row["position"],
            row["text"],
            [
                (options[o]["text"], o == row["chosen"] or o in (row["chosen_set"] or ()), options[o]["is_correct"])
                for o in row["option_ids"]
            ],
            row["explanation"],
        )
        for row in rows
    ]
