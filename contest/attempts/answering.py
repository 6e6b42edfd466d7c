"""Answering while the attempt is open: each answer, ticked set and prediction stored the moment it is given."""

from __future__ import annotations

from datetime import datetime

from contest import clock, db
from contest.attempts.service import grace
from contest.digits import is_digits
from contest.grouped import GroupWriter, deadlocked
from contest.i18n import InputError

MAX_CHOICES = 26  # more ticks than any question has options is never a real answer

# A row whose `seq` is below the stored one was given before the answer already stored (it arrived late: another
# connection, a retry): it matches, so the caller is answered as for any save, and changes nothing.
_STALE = "g.seq < i.answer_seq"

_SAVE_ANSWERS = f"""
WITH given AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::int[], $5::timestamptz[], $6::timestamptz[],
                         $7::bigint[])
        AS t(attempt, contestant, position, option, at, not_before, seq)
)
UPDATE attempt_item i
SET chosen = CASE WHEN {_STALE} THEN i.chosen ELSE g.option END,
    answered_at = CASE WHEN {_STALE} THEN i.answered_at ELSE g.at END,
    answer_seq = CASE WHEN {_STALE} THEN i.answer_seq ELSE coalesce(g.seq, i.answer_seq) END
FROM given g JOIN attempt a ON a.id = g.attempt AND a.contestant = g.contestant
WHERE a.status = 'open' AND a.deadline >= g.not_before
  AND i.attempt = a.id AND i.position = g.position AND g.option = ANY(i.option_ids)
RETURNING i.attempt, i.position
"""


# (attempt, contestant, position, option, answered at, answered at minus grace, the client's order or None)
AnswerRow = tuple[int, int, int, int, datetime, datetime, int | None]


async def _save_answers(rows: list[AnswerRow]) -> list[bool]:
    stored = {(r["attempt"], r["position"]) for r in await db.fetch(_SAVE_ANSWERS, *map(list, zip(*rows, strict=True)))}
    return [(row[0], row[2]) in stored for row in rows]


_answer_writer: GroupWriter[AnswerRow, bool] = GroupWriter(_save_answers, key=lambda row: (row[0], row[2]), retry_if=deadlocked)


async def save_answer(attempt_id: int, contestant_id: int, position: int, option_id: int, seq: int | None = None) -> None:
    """Store one answer the moment it is given (committed before this returns), within deadline + grace; `seq`, the
    client's order of its answers, keeps a late-arriving earlier answer from replacing a later one."""
    now = clock.now()
    if not await _answer_writer((attempt_id, contestant_id, position, option_id, now, now - grace(), seq)):
        await _explain_refusal(attempt_id, contestant_id, position, now)
        raise InputError({"option": "option_invalid"})


_STALE_SET = "$7::bigint < i.answer_seq"
_SAVE_CHOICES = f"""
UPDATE attempt_item i
SET chosen_set = CASE WHEN {_STALE_SET} THEN i.chosen_set ELSE $4::int[] END,
    chosen = CASE WHEN {_STALE_SET} THEN i.chosen ELSE NULL END,
    answered_at = CASE WHEN {_STALE_SET} THEN i.answered_at ELSE $5 END,
    answer_seq = CASE WHEN {_STALE_SET} THEN i.answer_seq ELSE coalesce($7::bigint, i.answer_seq) END
FROM attempt a
WHERE a.id = $1 AND a.contestant = $2 AND a.status = 'open' AND a.deadline >= $6
  AND i.attempt = a.id AND i.position = $3 AND $4::int[] <@ i.option_ids
RETURNING i.id
"""


async def save_choices(attempt_id: int, contestant_id: int, position: int, option_ids: list[int], seq: int | None = None) -> None:
    """Store what is ticked on a choose-all-that-apply question (the whole set, so each change is one request);
    an empty set unticks all. Within deadline + grace, like save_answer."""
    now = clock.now()
    chosen = sorted(set(option_ids))
    if len(chosen) > MAX_CHOICES or not await db.fetch(
        _SAVE_CHOICES, attempt_id, contestant_id, position, chosen, now, now - grace(), seq
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
    if rows[0]["status"] != "open" or rows[0]["deadline"] < now - grace():
        raise InputError({"attempt": "attempt_closed"})
    if not rows[0]["has_item"]:
        raise InputError({"position": "position_invalid"})


MAX_PREDICTION = 100_000_000


def parse_seq(raw: str | None) -> int | None:
    """The page's order of an answer (its clock in ms, sent by static/app.js); None without script or when unreadable
    (the answer then counts as it arrives: an odd `seq` must never cost an answer)."""
    if raw is None or not is_digits(raw) or len(raw) > 18:
        return None
    return int(raw)


def parse_prediction(raw: str | int | None) -> int | None:
    """The prediction as a whole number, None when left empty; InputError when not a number in range."""
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip().replace(".", "").replace(",", "").replace(" ", "")
    if not is_digits(text) or int(text) > MAX_PREDICTION:
        raise InputError({"prediction": "prediction_invalid"})
    return int(text)


async def save_prediction(attempt_id: int, contestant_id: int, value: int | None, seq: int | None = None) -> None:
    """Store the answer to the prediction question (the tiebreak), within deadline + grace; `seq` as for answers."""
    now = clock.now()
    rows = await db.fetch(
        "UPDATE attempt SET prediction = CASE WHEN $5::bigint < prediction_seq THEN prediction ELSE $1 END, "
        "prediction_seq = CASE WHEN $5::bigint < prediction_seq THEN prediction_seq ELSE coalesce($5, prediction_seq) END "
        "WHERE id = $2 AND contestant = $3 AND status = 'open' AND deadline >= $4 RETURNING id",
        value,
        attempt_id,
        contestant_id,
        now - grace(),
        seq,
    )
    if not rows:
        await _explain_refusal(attempt_id, contestant_id, 1, now)
