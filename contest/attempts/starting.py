"""Starting an attempt: the round's rules checked, questions drawn by quota, the deadline set by the server."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from contest import clock, db
from contest.attempts.finishing import close_expired
from contest.attempts.service import grace
from contest.contests.service import parse_quotas
from contest.contests.tables import IN_AREA, IN_GROUPS
from contest.db import engine
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
        resumable = [int(row["id"]) for row in current if row["deadline"] + grace() >= now]
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
