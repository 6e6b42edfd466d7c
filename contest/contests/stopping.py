"""Stopping a round: close it now, or suspend it and resume it later, each with a reason and audited.

Closing now is the one way a round's close moves earlier once people have taken it (builder.update_round only
lets it move later). The organiser chooses what happens to the attempts in progress: submitted now with the
answers they have (scored by the workers as any submit), or kept until their own deadline (the round's close
then becomes the last of those deadlines, so the key, results and retakes wait for them, while no new start
is accepted from now on).
"""

from __future__ import annotations

from dataclasses import dataclass

from contest import clock, db
from contest.contests.tables import Round
from contest.db import engine
from contest.i18n import InputError
from contest.staff.audit import audit
from contest.staff.signin import StaffUser
from contest.text import nfc

# What happens to attempts in progress when a round is closed now.
SUBMIT_NOW, KEEP_DEADLINE = "submit", "keep"
MAX_REASON = 500


@dataclass(frozen=True)
class Stoppable:
    """What the confirmation page shows before an organiser closes a round now."""

    round_id: int
    in_progress: int


def _reason(text: str) -> str:
    reason = nfc(text).strip()
    if not 3 <= len(reason) <= MAX_REASON:
        raise InputError({"reason": "reason_required"}, max=MAX_REASON)
    return reason


async def _open_round(round_id: int) -> dict:
    """The round, locked against starts until this transaction ends (a start reads it FOR KEY SHARE)."""
    rows = await db.raw(
        "SELECT r.id, r.number, r.state, r.opens_at, r.closes_at, r.stopped_at, r.suspended_at, c.slug "
        "FROM round r JOIN contest c ON c.id = r.contest WHERE r.id = {} FOR UPDATE OF r",
        round_id,
    )
    if not rows:
        raise InputError({"round": "round_not_found"})
    row = rows[0]
    if row["state"] != "published" or row["stopped_at"] is not None or clock.now() >= row["closes_at"]:
        raise InputError({"state": "round_not_running"})
    return row


async def in_progress(round_id: int) -> Stoppable:
    """How many contestants are mid-attempt in this round now (previews not counted)."""
    rows = await db.raw("SELECT count(*) AS n FROM attempt WHERE round = {} AND status = 'open' AND NOT preview", round_id)
    return Stoppable(round_id, int(rows[0]["n"]))


async def close_now(actor: StaffUser, round_id: int, reason: str, attempts: str) -> int:
    """Close a round now; returns how many attempts were submitted (the caller wakes the scoring workers)."""
    why = _reason(reason)
    if attempts not in (SUBMIT_NOW, KEEP_DEADLINE):
        raise InputError({"attempts": "close_choice_required"})
    now = clock.now()
    async with engine().transaction():
        row = await _open_round(round_id)
        submitted = 0
        if attempts == SUBMIT_NOW:
            # Stamped now, as if the server had closed each attempt at its deadline; the status change is what makes
            # the scoring workers take each one exactly once.
            done = await db.raw(
                "UPDATE attempt SET status = 'submitted', submitted_at = {}, auto_submitted = true, "
                "duration_ms = greatest(0, (extract(epoch FROM {} - started_at) * 1000)::int) "
                "WHERE round = {} AND status = 'open' RETURNING id",
                now,
                now,
                round_id,
            )
            submitted = len(done)
            closes = now
        else:
            last = await db.raw(
                "SELECT max(deadline) AS last FROM attempt WHERE round = {} AND status = 'open' AND NOT preview", round_id
            )
            closes = max(now, last[0]["last"] or now)
        await Round.update({Round.stopped_at: now, Round.stop_reason: why, Round.closes_at: max(closes, row["opens_at"])}).where(
            Round.id == round_id
        )
    await audit(
        actor.id,
        "round.close_now",
        f"{row['slug']}#{row['number']}",
        reason=why,
        attempts=attempts,
        submitted=submitted,
        closes_at=closes,
        previous_close=row["closes_at"],
    )
    return submitted


async def suspend(actor: StaffUser, round_id: int, reason: str) -> None:
    """Refuse new starts until resumed; attempts in progress go on. Contestants see the reason."""
    why = _reason(reason)
    async with engine().transaction():
        row = await _open_round(round_id)
        if row["suspended_at"] is not None:
            raise InputError({"state": "round_already_suspended"})
        await Round.update({Round.suspended_at: clock.now(), Round.suspend_reason: why}).where(Round.id == round_id)
    await audit(actor.id, "round.suspend", f"{row['slug']}#{row['number']}", reason=why)


async def resume(actor: StaffUser, round_id: int) -> None:
    """Accept starts again."""
    rows = await db.raw(
        "UPDATE round r SET suspended_at = NULL, suspend_reason = '' FROM contest c "
        "WHERE r.id = {} AND c.id = r.contest AND r.suspended_at IS NOT NULL "
        "RETURNING r.number, c.slug, (SELECT suspend_reason FROM round o WHERE o.id = r.id) AS reason",
        round_id,
    )
    if not rows:
        raise InputError({"state": "round_not_suspended"})
    await audit(actor.id, "round.resume", f"{rows[0]['slug']}#{rows[0]['number']}", reason=rows[0]["reason"])
