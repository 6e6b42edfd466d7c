"""Final results of a closed round: the frozen participant count, the full tie order, prizes, publication.

The tie order: more points (questions right; with partial credit, parts of them), then the prediction closest to the
real number of participants (frozen here, when the round's results are computed; no prediction comes last), then the shorter time,
then the earlier submission. Each contestant is judged on their best attempt under that order. Nothing
changes once the results are published: recomputing, disqualifying and reinstating are refused, and the round's
builder locks what they depend on, until an organiser reopens them with a reason (results.reopening).
On publication (and on reopening) the boards take the final order (leaderboard.final).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contest import clock, db, xlsx
from contest.attempts import finishing
from contest.contests.service import round_row
from contest.contests.tables import Contest, Round
from contest.db import engine
from contest.formatting import local
from contest.i18n import DEFAULT, N_, InputError, message
from contest.leaderboard import scorecode
from contest.leaderboard.final import show_final_order

# Names shortened ("Nguyễn V. A.") and phones masked ("09x****678") as on every public page.
from contest.people.phone import mask_phone, short_name
from contest.redis import async_redis
from contest.results.tables import RoundResult
from contest.scoring import service as scoring
from contest.settings import get_settings
from contest.staff.audit import audit
from contest.staff.signin import StaffUser
from contest.translations import translations

PUBLIC_TOP = 50
MIN_REASON, MAX_REASON = 3, 500
EXPORT_HEADER = (
    N_("Hạng"), N_("Họ và tên"), N_("Số điện thoại"), N_("Năm sinh"), N_("Xã/phường"), N_("Đối tượng"),
    N_("Điểm"), N_("Dự đoán"), N_("Chênh lệch dự đoán"), N_("Thời gian (giây)"), N_("Nộp bài lúc"), N_("Giải"),
    N_("Bị loại"), N_("Lý do loại"),
)  # fmt: skip

# Each contestant's best scored attempt under the full tie order, ranked (ties on every key share a rank).
_BEST_SQL = """
WITH best AS (
    SELECT DISTINCT ON (a.contestant) a.contestant, a.id AS attempt, a.correct, a.points, a.prediction,
           abs(a.prediction - {}) AS prediction_gap, coalesce(a.duration_ms, 0) AS duration_ms, a.submitted_at
    FROM attempt a
    WHERE a.round = {} AND NOT a.preview AND a.status = 'scored'
    ORDER BY a.contestant, a.points DESC, prediction_gap ASC NULLS LAST, a.duration_ms ASC, a.submitted_at ASC, a.id
)
SELECT *, rank() OVER (ORDER BY points DESC, prediction_gap ASC NULLS LAST, duration_ms ASC, submitted_at ASC) AS rank
FROM best
"""

# Disqualified people leave the ranking: the others are ranked again among themselves, they go last.
_RERANK_SQL = """
UPDATE round_result rr SET rank = x.rank FROM (
    SELECT id, rank() OVER (ORDER BY disqualified, points DESC, prediction_gap ASC NULLS LAST, duration_ms ASC,
                                     submitted_at ASC) AS rank
    FROM round_result WHERE round = {}
) x WHERE rr.id = x.id
"""


def round_target(rnd: dict) -> str:
    """How the audit log names a round: "slug#number"."""
    return f"{rnd['contest_slug']}#{rnd['number']}"


async def _open_round(round_id: int) -> dict:
    """The round, refused when its results are already published (nothing may change then)."""
    rnd = await round_row(round_id)
    if rnd["results_published_at"] is not None:
        raise InputError({"results": "results_published"})
    return rnd


# ---- lists for the pages ---------------------------------------------------------------------------


async def closed_rounds() -> list[dict]:
    """Rounds past their close (drafts aside), newest close first, with how far their results are."""
    return await db.raw(
        "SELECT r.id, r.number, r.title, r.closes_at, r.state, r.participants_final, r.results_published_at, "
        "c.title AS contest_title, (SELECT count(*) FROM round_result rr WHERE rr.round = r.id) AS results "
        "FROM round r JOIN contest c ON c.id = r.contest "
        "WHERE r.state <> 'draft' AND r.closes_at <= {} ORDER BY r.closes_at DESC, r.id DESC",
        clock.now(),
    )


async def results_of(round_id: int) -> list[dict]:
    """Every result of a round in rank order, with the person's full details (staff only)."""
    rows = await db.raw(
        "SELECT rr.*, p.full_name, p.phone, p.birth_year, p.group, m.name AS commune, s.email AS decided_by_email "
        "FROM round_result rr JOIN contestant p ON p.id = rr.contestant JOIN place m ON m.code = p.collective "
        "LEFT JOIN staff s ON s.id = rr.decided_by WHERE rr.round = {} ORDER BY rr.rank, rr.submitted_at, rr.id",
        round_id,
    )
    return [r | {"score": scorecode.in_questions(r["points"])} for r in rows]


# ---- computing -------------------------------------------------------------------------------------


async def _settle_attempts(rnd: dict) -> None:
    """Close what expired and score what is still waiting, so every attempt of the round counts."""
    await finishing.close_expired()
    conn = await engine().get_new_connection()
    try:
        await scoring.score_pending(conn, async_redis(), get_settings().contest.scoring_batch, max_seconds=30)
    finally:
        await conn.close()
    rows = await db.raw(
        "SELECT status, count(*) AS n FROM attempt WHERE round = {} AND NOT preview AND status <> 'scored' GROUP BY status",
        rnd["id"],
    )
    left = {r["status"]: r["n"] for r in rows}
    if left.get("open"):
        raise InputError({"results": "results_attempts_open"}, seconds=get_settings().contest.grace_seconds)
    if left:
        raise InputError({"results": "results_scoring_pending"})


async def compute_results(actor: StaffUser, round_id: int) -> int:
    """Freeze the number of participants and rank everyone by the full tie order; returns that number."""
    rnd = await _open_round(round_id)
    if rnd["state"] == "draft":
        raise InputError({"state": "state_invalid"})
    if clock.now() < rnd["closes_at"]:
        raise InputError({"state": "results_too_early"})
    await _settle_attempts(rnd)
    async with engine().transaction():
        locked = await db.raw("SELECT results_published_at FROM round WHERE id = {} FOR UPDATE", round_id)
        if locked[0]["results_published_at"] is not None:
            raise InputError({"results": "results_published"})
        counted = await db.raw(
            "SELECT count(DISTINCT contestant) AS n FROM attempt WHERE round = {} AND NOT preview AND status = 'scored'",
            round_id,
        )
        final = int(counted[0]["n"])
        # An organiser's decisions survive a recompute.
        kept = {
            r["contestant"]: r
            for r in await RoundResult.select(RoundResult.contestant, RoundResult.reason, RoundResult.decided_by).where(
                (RoundResult.round == round_id) & (RoundResult.disqualified == True)  # noqa: E712
            )
        }
        best = await db.raw(_BEST_SQL, final, round_id)
        await RoundResult.delete().where(RoundResult.round == round_id)
        if best:
            await RoundResult.insert(
                *[
                    RoundResult(
                        round=round_id,
                        contestant=b["contestant"],
                        attempt=b["attempt"],
                        rank=b["rank"],
                        correct=b["correct"],
                        points=b["points"],
                        prediction=b["prediction"],
                        prediction_gap=b["prediction_gap"],
                        duration_ms=b["duration_ms"],
                        submitted_at=b["submitted_at"],
                        disqualified=b["contestant"] in kept,
                        reason=kept[b["contestant"]]["reason"] if b["contestant"] in kept else "",
                        decided_by=kept[b["contestant"]]["decided_by"] if b["contestant"] in kept else None,
                    )
                    for b in best
                ]
            )
        await Round.update({Round.participants_final: final}).where(Round.id == round_id)
        await _propose_prizes(rnd)
    await audit(actor.id, "results.compute", round_target(rnd), participants_final=final, ranked=len(best))
    return final


async def _propose_prizes(rnd: dict) -> None:
    """Rank again without the disqualified, then give the tiers in order to the next eligible people.

    Eligible: not disqualified, not already a winner when the contest gives one prize per person, and at or
    above the round's pass mark (a prize below it would honour a failed attempt).
    """
    round_id = rnd["id"]
    await db.raw(_RERANK_SQL, round_id)
    skip: set[int] = set()
    contest = await Contest.select(Contest.one_prize_per_person).where(Contest.id == rnd["contest"]).first()
    if contest and contest["one_prize_per_person"]:
        held = await db.raw(
            "SELECT DISTINCT rr.contestant FROM round_result rr JOIN round r ON r.id = rr.round "
            "WHERE r.contest = {} AND r.id <> {} AND r.results_published_at IS NOT NULL "
            "AND rr.prize IS NOT NULL AND NOT rr.disqualified",
            rnd["contest"],
            round_id,
        )
        skip = {h["contestant"] for h in held}
    passed = (RoundResult.round == round_id) & (RoundResult.disqualified == False)  # noqa: E712
    if rnd["pass_mark"] is not None:
        passed &= RoundResult.points >= int(rnd["pass_mark"]) * scorecode.UNIT
    ranked = (
        await RoundResult.select(RoundResult.id, RoundResult.contestant)
        .where(passed)
        .order_by(RoundResult.rank)
        .order_by(RoundResult.submitted_at)
        .order_by(RoundResult.id)
    )
    eligible = iter([r["id"] for r in ranked if r["contestant"] not in skip])
    awarded: dict[int, str] = {}
    for tier in rnd["prizes"] or []:
        for _ in range(int(tier.get("count") or 0)):
            result_id = next(eligible, None)
            if result_id is None:
                break
            awarded[result_id] = str(tier["name"])
    await RoundResult.update({RoundResult.prize: None}).where(RoundResult.round == round_id)
    for result_id, name in awarded.items():
        await RoundResult.update({RoundResult.prize: name}).where(RoundResult.id == result_id)


# ---- the organiser's decisions ---------------------------------------------------------------------


async def _decide(actor: StaffUser, round_id: int, contestant_id: int, disqualified: bool, reason: str) -> None:
    rnd = await _open_round(round_id)
    async with engine().transaction():
        done = (
            await RoundResult.update(
                {RoundResult.disqualified: disqualified, RoundResult.reason: reason, RoundResult.decided_by: actor.id}
            )
            .where((RoundResult.round == round_id) & (RoundResult.contestant == contestant_id))
            .returning(RoundResult.id)
        )
        if not done:
            raise InputError({"results": "results_not_found"})
        await _propose_prizes(rnd)
    action = "results.disqualify" if disqualified else "results.reinstate"
    await audit(actor.id, action, round_target(rnd), contestant=contestant_id, reason=reason)


def reason_given(text: str) -> str:
    """A decision's reason, spaces tidied; refused when too short or too long."""
    reason = " ".join(str(text or "").split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InputError({"reason": "results_reason_required"}, min=MIN_REASON, max=MAX_REASON)
    return reason


async def disqualify(actor: StaffUser, round_id: int, contestant_id: int, reason: str) -> None:
    """Take a contestant out of the ranking and the prizes, with a reason; the prizes move down."""
    await _decide(actor, round_id, contestant_id, True, reason_given(reason))


async def reinstate(actor: StaffUser, round_id: int, contestant_id: int) -> None:
    """Undo a disqualification; the prizes are proposed again."""
    await _decide(actor, round_id, contestant_id, False, "")


async def publish(actor: StaffUser, round_id: int) -> None:
    """Publish computed results: contestants and officials see them, and they no longer change."""
    rnd = await _open_round(round_id)
    if rnd["state"] not in ("published", "results"):
        raise InputError({"state": "state_invalid"})
    if clock.now() < rnd["closes_at"]:
        raise InputError({"state": "results_too_early"})
    if rnd["participants_final"] is None:
        raise InputError({"results": "results_not_computed"})
    now = clock.now()
    await Round.update({Round.results_published_at: now, Round.state: "results"}).where(Round.id == round_id)
    await audit(
        actor.id, "results.publish", round_target(rnd), previous=rnd["state"], participants_final=rnd["participants_final"]
    )
    await show_final_order(round_id)


# ---- what the public sees --------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicRow:
    rank: int
    name: str
    phone: str
    commune: str
    correct: int | float  # in questions: 7.5 with partial credit
    prediction_gap: int | None
    duration_ms: int
    prize: str | None


async def public_results(round_id: int) -> tuple[dict, list[tuple[str, list[PublicRow]]], list[PublicRow]] | None:
    """A published round: (round, winners per prize tier in tier order, the top 50); None before publication."""
    rnd = await round_row(round_id)
    if rnd["results_published_at"] is None:
        return None
    rows = await db.raw(
        "SELECT rr.rank, rr.points, rr.prediction_gap, rr.duration_ms, rr.prize, p.full_name, p.phone, "
        "m.name AS commune FROM round_result rr JOIN contestant p ON p.id = rr.contestant "
        "JOIN place m ON m.code = p.collective WHERE rr.round = {} AND NOT rr.disqualified "
        "ORDER BY rr.rank, rr.submitted_at, rr.id",
        round_id,
    )
    shown = [
        PublicRow(
            r["rank"],
            short_name(r["full_name"]),
            mask_phone(r["phone"]),
            r["commune"],
            scorecode.in_questions(r["points"]) or 0,
            r["prediction_gap"],
            r["duration_ms"],
            r["prize"],
        )  # fmt: skip
        for r in rows
    ]
    tiers = [(str(t["name"]), [r for r in shown if r.prize == t["name"]]) for t in rnd["prizes"] or []]
    return rnd, [t for t in tiers if t[1]], shown[:PUBLIC_TOP]


# ---- the organiser's export ------------------------------------------------------------------------


async def export_rows(round_id: int) -> list[list[Any]]:
    """Every registered contestant of the contest, ranked first, then those who never finished the round."""
    rnd = await round_row(round_id)
    rows = await db.raw(
        "SELECT p.full_name, p.phone, p.birth_year, p.group, m.name AS commune, rr.rank, rr.points, rr.prediction, "
        "rr.prediction_gap, rr.duration_ms, rr.submitted_at, rr.prize, rr.disqualified, rr.reason "
        "FROM contestant p JOIN place m ON m.code = p.collective "
        "LEFT JOIN round_result rr ON rr.contestant = p.id AND rr.round = {} WHERE p.contest = {} "
        "ORDER BY rr.rank IS NULL, rr.disqualified, rr.rank, rr.submitted_at, p.full_name, p.id",
        round_id,
        rnd["contest"],
    )
    out = []
    for r in rows:
        finished = r["points"] is not None
        out.append(
            [
                r["rank"] if finished and not r["disqualified"] else None,
                r["full_name"],
                r["phone"],
                r["birth_year"],
                r["commune"],
                message(r["group"], section="groups"),
                scorecode.in_questions(r["points"]),
                r["prediction"],
                r["prediction_gap"],
                round(r["duration_ms"] / 1000, 2) if finished else None,
                local(r["submitted_at"]) if finished else "",
                r["prize"] or "",
                ("có" if r["disqualified"] else "không") if finished else "",
                r["reason"] or "",
            ]
        )
    return out


def to_xlsx(title: str, rows: list[list[Any]], lang: str = DEFAULT) -> bytes:
    """An xlsx workbook of the export rows under its header in the reader's language (text kept as text, never as
    formulas)."""
    t = translations(lang)
    return xlsx.workbook(title or t.gettext("Kết quả"), [t.gettext(h) for h in EXPORT_HEADER], rows)


async def export_xlsx(actor: StaffUser, round_id: int, lang: str = DEFAULT) -> tuple[str, bytes]:
    """The round's export as (file name, xlsx bytes); audited, as it holds personal data."""
    rnd = await round_row(round_id)
    rows = await export_rows(round_id)
    await audit(actor.id, "results.export", round_target(rnd), rows=len(rows))
    return f"ket-qua-{rnd['contest_slug']}-vong-{rnd['number']}.xlsx", to_xlsx(
        translations(lang).gettext("Vòng %(number)s") % {"number": rnd["number"]}, rows, lang
    )
