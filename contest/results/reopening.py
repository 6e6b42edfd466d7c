"""Reopening a round's computed results, with a reason (audited), so that what they depend on may change.

Certificates awarded for the round (prizes, participation, the communes' giấy khen) were issued on the results being
reopened; left valid, they could contradict the new ones. So a reopening that would leave any is refused until the
organiser confirms that they are revoked, having been told how many: they are then revoked in the same transaction
(audited), marked superseded so that the award after the new publication issues them again, and the verification
page says why.
"""

from __future__ import annotations

from contest import clock, db
from contest.contests.service import round_row
from contest.contests.tables import Round
from contest.db import engine
from contest.i18n import InputError
from contest.leaderboard.final import show_final_order
from contest.leaderboard.rebuild import rebuild_round
from contest.results.service import reason_given, round_target
from contest.staff.audit import audit
from contest.staff.signin import StaffUser


async def certificates_of(round_id: int) -> int:
    """How many certificates awarded for this round are still valid: what a reopening would revoke."""
    rows = await db.raw("SELECT count(*) AS n FROM certificate WHERE round = {} AND revoked_at IS NULL", round_id)
    return int(rows[0]["n"])


async def reopen(actor: StaffUser, round_id: int, reason: str, revoke_certificates: bool = False) -> int:
    """Unpublish computed results, with a reason; they must then be computed and published again (the organiser's
    disqualifications are kept) and the boards go back to provisional. The round's valid certificates are revoked,
    only when the organiser confirms it; returns how many were."""
    reason = reason_given(reason)
    rnd = await round_row(round_id)
    if rnd["participants_final"] is None:
        raise InputError({"results": "results_not_computed"})
    state = "published" if rnd["state"] == "results" else rnd["state"]
    async with engine().transaction():
        # Locked first, so an award running now finishes before the count (or waits for the reopening).
        await db.raw("SELECT id FROM round WHERE id = {} FOR UPDATE", round_id)
        held = await certificates_of(round_id)
        if held and not revoke_certificates:
            raise InputError({"certificates": "results_reopen_certificates"}, count=held)
        revoked = await db.raw(
            "UPDATE certificate SET revoked_at = {}, revoke_reason = {}, revoked_by = {}, superseded = true "
            "WHERE round = {} AND revoked_at IS NULL RETURNING code",
            clock.now(),
            reason,
            actor.id,
            round_id,
        )
        await Round.update({Round.results_published_at: None, Round.participants_final: None, Round.state: state}).where(
            Round.id == round_id
        )
    target = round_target(rnd)
    await audit(
        actor.id,
        "results.reopen",
        target,
        reason=reason,
        was_published=rnd["results_published_at"] is not None,
        certificates_revoked=len(revoked),
    )
    if revoked:
        await audit(actor.id, "certificates.revoke_round", target, reason=reason, codes=[r["code"] for r in revoked])
    await rebuild_round(round_id, quiet=True)
    await show_final_order(round_id)
    return len(revoked)
