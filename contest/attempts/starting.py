"""Starting an attempt: the round's rules checked, questions drawn by quota, the deadline set by the server."""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from contest import clock, db
from contest.attempts.finishing import close_expired
from contest.attempts.service import AttemptView, ItemView, grace
from contest.contests.service import parse_quotas
from contest.contests.tables import IN_AREA, IN_GROUPS
from contest.digits import read_int
from contest.i18n import InputError
from contest.scoring.queue import schedule_auto_submit

_rng = random.SystemRandom()
# Per web process, on purpose: with N processes a bank edit reaches every draw within BANK_TTL all the same (a
# deactivated question may be drawn that long; questions are never deleted, and an attempt keeps what it drew).
_bank_cache: dict[tuple[str, ...], tuple[float, dict[str, list[int]]]] = {}
BANK_TTL = 30.0


def _draw_key(key: str) -> tuple[str, int | None]:
    """ "online_safety" -> ("online_safety", None); "online_safety:3" -> ("online_safety", 3)."""
    topic, _, difficulty = key.partition(":")
    return topic, read_int(difficulty)


async def _question_ids(keys: tuple[str, ...]) -> dict[str, list[int]]:
    """Active question ids per draw key, cached briefly: starts spike, banks change rarely."""
    hit = _bank_cache.get(keys)
    if hit and time.monotonic() - hit[0] < BANK_TTL:
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
    chosen = await draw_ids(quotas)
    rows = await db.raw("SELECT id, question FROM option WHERE question = ANY({})", chosen)
    options: dict[int, list[int]] = {q: [] for q in chosen}
    for row in rows:
        options[row["question"]].append(row["id"])
    for ids in options.values():
        _rng.shuffle(ids)
    return [(q, options[q]) for q in chosen]


async def draw_ids(quotas: dict[str, int]) -> list[int]:
    """Draw question ids by quota per topic (or topic:difficulty), in random order."""
    bank = await _question_ids(tuple(sorted(quotas)))
    chosen: list[int] = []
    # Difficulty-specific keys first, so a whole-topic key cannot use up what they need.
    for key, n in sorted(quotas.items(), key=lambda kv: ":" not in kv[0]):
        candidates = [q for q in bank[key] if q not in chosen]
        if len(candidates) < n:
            raise InputError({"round": "bank_too_small"}, topic=key)
        chosen += _rng.sample(candidates, n)
    _rng.shuffle(chosen)
    return chosen


# One statement starts an attempt (py-spy and an in-process profile under the deadline spike: a start cost eleven
# round trips and 6 ms of the web process's CPU, a tenth of the surge). It checks the round's rules under FOR KEY
# SHARE (an organiser closing the round waits for it), stores the attempt and its items with their options shuffled,
# and returns what the contestant's page needs. Nothing is written unless every rule passes; the caller reads why
# from the same row. One open attempt per contestant is kept by a unique index (attempt_one_open), so two starts at
# once cannot both pass: the second meets the first's attempt and resumes it.
_START = f"""
WITH r AS (
    SELECT r.id, r.opens_at, r.closes_at, r.max_attempts, coalesce(r.quotas, c.quotas) AS quotas,
        coalesce(r.time_limit_seconds, c.time_limit_seconds) AS time_limit_seconds,
        -- A unit is checked at registration: a contest with its own units has no places to admit.
        p.unit IS NOT NULL OR {IN_AREA} AS place_ok,
        {IN_GROUPS} AS group_ok, r.stopped_at, r.stop_reason, r.suspended_at, r.suspend_reason, r.ask_prediction,
        c.partial_credit
    FROM round r JOIN contest c ON c.id = r.contest JOIN contestant p ON p.contest = c.id
    LEFT JOIN commune m ON m.code = p.commune
    -- An erased (anonymised) registration takes no more attempts.
    WHERE r.id = $1 AND p.id = $2 AND r.state <> 'draft' AND c.published AND p.erased_at IS NULL
    FOR KEY SHARE OF r
), cur AS (
    SELECT id, deadline FROM attempt WHERE contestant = $2 AND status = 'open'
), used AS (
    SELECT count(*) AS n FROM attempt WHERE contestant = $2 AND round = $1
), go AS (
    SELECT least($3::timestamptz + make_interval(secs => r.time_limit_seconds), r.closes_at) AS deadline FROM r
    WHERE r.opens_at <= $3::timestamptz AND $3::timestamptz < r.closes_at AND r.place_ok AND r.group_ok AND r.stopped_at IS NULL
        AND r.suspended_at IS NULL AND NOT EXISTS (SELECT 1 FROM cur) AND (SELECT n FROM used) < r.max_attempts
        AND r.quotas = $4::jsonb
), a AS (
    INSERT INTO attempt (round, contestant, status, started_at, deadline, auto_submitted, total, preview)
    SELECT $1, $2, 'open', $3, deadline, false, cardinality($5::int[]), false FROM go RETURNING id, deadline
), i AS (
    INSERT INTO attempt_item (attempt, position, question, option_ids)
    SELECT a.id, t.p, t.q, array(SELECT o.id FROM option o WHERE o.question = t.q ORDER BY random())
    FROM a CROSS JOIN unnest($5::int[]) WITH ORDINALITY AS t(q, p)
    RETURNING position, question, option_ids
)
SELECT r.*, (SELECT n FROM used) AS used, (SELECT array_agg(id) FROM cur) AS cur_ids,
    (SELECT array_agg(deadline) FROM cur) AS cur_deadlines, a.id AS attempt_id, a.deadline,
    (SELECT json_agg(json_build_object(
        'position', i.position, 'text', q.text, 'image', q.image,
        -- Only whether a question has several correct options leaves the server, never which ones.
        'multiple', (SELECT count(*) FROM option o WHERE o.id = ANY(i.option_ids) AND o.is_correct) > 1,
        'options', (SELECT json_agg(json_build_array(o.id, o.text) ORDER BY x.n)
                    FROM unnest(i.option_ids) WITH ORDINALITY AS x(id, n) JOIN option o ON o.id = x.id)
    ) ORDER BY i.position) FROM i JOIN question q ON q.id = i.question) AS items
FROM r LEFT JOIN a ON true
"""
# The draw's quotas per round, as the last start saw them: the statement checks them (r.quotas = $4), so a stale
# entry costs one more round trip, never a wrong draw.
_round_quotas: dict[int, dict[str, int]] = {}


@dataclass
class Started:
    """A start: the attempt, and for a new one what its page shows (None when an open attempt was resumed)."""

    attempt_id: int
    view: AttemptView | None = None


async def start_attempt(contestant_id: int, round_id: int) -> int:
    """Start an attempt, or return the open one (same deadline). Enforces the round window and attempt limit."""
    return (await start(contestant_id, round_id)).attempt_id


async def start(contestant_id: int, round_id: int) -> Started:
    """Start an attempt, or resume the open one; the round's rules are checked in the same statement."""
    for _ in range(4):
        now = clock.now()
        quotas = _round_quotas.get(round_id)
        drawn: list[int] = []
        short: InputError | None = None  # the bank cannot fill the quotas: said once the rules let the start pass
        if quotas is not None:
            try:
                drawn = await draw_ids(quotas)
            except InputError as exc:
                short = exc
        sent = json.dumps(quotas) if quotas is not None and short is None else None  # None: nothing is written
        try:
            rows = await db.fetch(_START, round_id, contestant_id, now, sent, drawn)
        except asyncpg.UniqueViolationError:
            continue  # a start of the same contestant at the same moment won: resume that one
        if not rows or not rows[0]["opens_at"] <= now < rows[0]["closes_at"]:
            raise InputError({"round": "round_not_open"})
        row = rows[0]
        if row["attempt_id"] is not None:
            await schedule_auto_submit(row["deadline"])
            return Started(row["attempt_id"], _new_view(row, contestant_id, now))
        # Who registered before the organiser narrowed the contest cannot start under the new rules.
        if not row["place_ok"]:
            raise InputError({"round": "not_eligible_place"})
        if not row["group_ok"]:
            raise InputError({"round": "not_eligible_group"})
        current = list(zip(row["cur_ids"] or [], row["cur_deadlines"] or [], strict=True))
        resumable = [attempt_id for attempt_id, deadline in current if deadline + grace() >= now]
        if resumable:
            return Started(resumable[0])
        # An attempt in progress may be finished; a new one is refused while the organiser has stopped the round.
        if row["stopped_at"] is not None:
            raise InputError({"round": "round_stopped"}, reason=row["stop_reason"])
        if row["suspended_at"] is not None:
            raise InputError({"round": "round_suspended"}, reason=row["suspend_reason"])
        if current:
            await close_expired(now, contestant_id)
            continue
        if row["used"] >= row["max_attempts"]:
            raise InputError({"round": "attempt_limit"}, max=row["max_attempts"])
        if short is not None and parse_quotas(row["quotas"]) == quotas:
            raise short
        _round_quotas[round_id] = parse_quotas(row["quotas"])  # the quotas changed (or were not known): draw again
    raise RuntimeError(f"attempt start of contestant {contestant_id} in round {round_id} did not settle")


def _new_view(row: asyncpg.Record, contestant_id: int, now: datetime) -> AttemptView:
    view = AttemptView(
        row["attempt_id"],
        row["id"],
        contestant_id,
        "open",
        row["deadline"],
        max(0, int((row["deadline"] - now).total_seconds())),
        None,
        row["ask_prediction"],
        bool(row["partial_credit"]),
    )
    view.items = [
        ItemView(i["position"], i["text"], [(o, t) for o, t in i["options"]], None, i["image"], multiple=i["multiple"])
        for i in json.loads(row["items"] or "[]")
    ]
    return view


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
