"""Award rules, verification and revocation of certificates.

Who gets what, per contest: a participation certificate for whoever reaches a round's pass mark (the contest's
design can turn these off), a prize certificate for each prize of a round's published results, and a collective
certificate (giấy khen) for the contest's best communes once a round's results are published. Exactly one
certificate per holder, contest and kind: the unique (contest, kind, subject) makes every award idempotent, so
re-running an award (or awarding while a citizen opens their result page) never makes a second one, and a revoked
certificate stays revoked. Only reopening a round's results supersedes its certificates (results.reopening): the
next award after the new publication issues them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contest import clock, db
from contest.db import fetch
from contest.i18n import InputError
from contest.leaderboard import scorecode
from contest.leaderboard.collective import count_collective, ranked
from contest.leaderboard.scope import Scope
from contest.staff.audit import audit
from contest.staff.signin import StaffUser

# Contestant ids per award statement: small enough to report progress, big enough to be fast.
BATCH = 20_000
MIN_REASON, MAX_REASON = 3, 500
# 80 random bits (20 hex digits) from PostgreSQL's generator: codes are made where the rows are.
_CODE = "substr(md5(gen_random_uuid()::text || clock_timestamp()::text), 1, 20)"

_COLUMNS = (
    "(code, kind, contest, round, contestant, commune, subject, holder, prize, correct, points, total, issued_at, revoke_reason)"
)

# Each contestant's best scored attempt in the round at or above the pass mark (in points: $3 is the mark × UNIT);
# not the disqualified.
_PARTICIPATION_SQL = f"""
WITH made AS (
    INSERT INTO certificate {_COLUMNS}
    SELECT {_CODE}, 'participation', r.contest, r.id, b.contestant, p.collective, 'p:' || b.contestant, p.full_name,
           NULL, b.correct, b.points, b.total, $1, ''
    FROM (
        SELECT DISTINCT ON (a.contestant) a.contestant, a.correct, a.points, a.total
        FROM attempt a
        WHERE a.round = $2 AND NOT a.preview AND a.status = 'scored' AND a.points >= $3
          AND a.contestant BETWEEN $4 AND $5
        ORDER BY a.contestant, a.points DESC, a.duration_ms
    ) b
    JOIN contestant p ON p.id = b.contestant
    JOIN round r ON r.id = $2
    WHERE NOT EXISTS (SELECT 1 FROM round_result rr WHERE rr.round = $2 AND rr.contestant = b.contestant AND rr.disqualified)
    ON CONFLICT (contest, kind, subject) WHERE NOT superseded DO NOTHING
    RETURNING 1
)
SELECT count(*) AS n FROM made
"""

_PRIZE_SQL = f"""
WITH made AS (
    INSERT INTO certificate {_COLUMNS}
    SELECT {_CODE}, 'prize', r.contest, r.id, rr.contestant, p.collective, 'p:' || rr.contestant, p.full_name,
           rr.prize, rr.correct, rr.points, a.total, $1, ''
    FROM round_result rr
    JOIN round r ON r.id = rr.round
    JOIN contestant p ON p.id = rr.contestant
    JOIN attempt a ON a.id = rr.attempt
    WHERE rr.round = $2 AND rr.prize IS NOT NULL AND NOT rr.disqualified AND r.results_published_at IS NOT NULL
    ORDER BY rr.rank
    ON CONFLICT (contest, kind, subject) WHERE NOT superseded DO NOTHING
    RETURNING 1
)
SELECT count(*) AS n FROM made
"""

_COLLECTIVE_SQL = f"""
WITH made AS (
    INSERT INTO certificate {_COLUMNS}
    SELECT {_CODE}, 'collective', $2, $3, NULL, m.code, 'c:' || m.code, m.name, NULL, NULL, NULL, NULL, $1, ''
    FROM place m WHERE m.code = ANY($4::int[])
    ON CONFLICT (contest, kind, subject) WHERE NOT superseded DO NOTHING
    RETURNING 1
)
SELECT count(*) AS n FROM made
"""

Progress = Callable[[str, int, int], None]


@dataclass
class AwardReport:
    """What one award run made (certificates that already existed are not counted again)."""

    participation: int = 0
    prize: int = 0
    collective: int = 0
    # Why a kind was not awarded: message codes ("cert_no_pass_mark", "cert_results_unpublished", ...).
    skipped: list[str] | None = None

    @property
    def total(self) -> int:
        return self.participation + self.prize + self.collective

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "total": self.total}


async def _round(round_id: int) -> dict:
    rows = await db.raw(
        "SELECT r.id, r.contest, r.number, r.title, r.pass_mark, r.results_published_at, r.state, c.title AS contest_title, "
        "coalesce(d.award_participation, true) AS award_participation, coalesce(d.collective_top, 3) AS collective_top, "
        "coalesce(d.collective_by, 'people') AS collective_by, "
        "coalesce(d.issuer, '') <> '' AND coalesce(d.signer_name, '') <> '' AS design_ready "
        "FROM round r JOIN contest c ON c.id = r.contest LEFT JOIN certificate_design d ON d.contest = r.contest "
        "WHERE r.id = {}",
        round_id,
    )
    if not rows:
        raise InputError({"round": "round_not_found"})
    return rows[0]


async def award_round(round_id: int, progress: Progress | None = None) -> AwardReport:
    """Award every certificate a round earns, in batches, reporting (phase, done, total); safe to re-run.

    Refused (InputError) while the contest's design names no issuing body or signer: a certificate is issued by
    someone, and one printed without them would still verify as valid."""
    rnd = await _round(round_id)
    if not rnd["design_ready"]:
        raise InputError({"round": "cert_design_missing"})
    report = AwardReport(skipped=[])
    assert report.skipped is not None
    now = clock.now()
    if rnd["pass_mark"] is None:
        report.skipped.append("cert_no_pass_mark")
    elif not rnd["award_participation"]:
        report.skipped.append("cert_participation_off")
    else:
        span = await fetch(
            "SELECT min(contestant) AS lo, max(contestant) AS hi FROM attempt "
            "WHERE round = $1 AND NOT preview AND status = 'scored' AND points >= $2",
            round_id,
            rnd["pass_mark"] * scorecode.UNIT,
        )
        lo, hi = span[0]["lo"], span[0]["hi"]
        if lo is not None:
            total = hi - lo + 1
            for start in range(lo, hi + 1, BATCH):
                made = await fetch(_PARTICIPATION_SQL, now, round_id, rnd["pass_mark"] * scorecode.UNIT, start, start + BATCH - 1)
                report.participation += made[0]["n"]
                if progress:
                    progress("participation", min(start + BATCH, hi + 1) - lo, total)
    if rnd["results_published_at"] is None:
        report.skipped.append("cert_results_unpublished")
    else:
        report.prize = (await fetch(_PRIZE_SQL, now, round_id))[0]["n"]
        if progress:
            progress("prize", 1, 1)
        if rnd["collective_top"] > 0:
            report.collective = await _award_collective(rnd, now)
        if progress:
            progress("collective", 1, 1)
    return report


async def best_communes(contest_id: int, top: int, by: str) -> list[int]:
    """The communes placed in the first `top` ranks of the contest's collective ranking (ties share a place)."""
    counted = await count_collective(Scope(contest_id, "", ""))
    return [row.code for row in ranked(counted.communes, by) if row.people and row.rank <= top]


async def _award_collective(rnd: dict, now: Any) -> int:
    codes = await best_communes(rnd["contest"], rnd["collective_top"], rnd["collective_by"])
    made = await fetch(_COLLECTIVE_SQL, now, rnd["contest"], rnd["id"], codes)
    return int(made[0]["n"])


async def award_participation(contestant_id: int, round_id: int) -> str | None:
    """The contestant's participation certificate of the contest when this round earns it and the design names an
    issuing body and a signer (made once); else None."""
    rnd = await _round(round_id)
    if rnd["pass_mark"] is None or not rnd["award_participation"] or not rnd["design_ready"]:
        return None
    await fetch(_PARTICIPATION_SQL, clock.now(), round_id, rnd["pass_mark"] * scorecode.UNIT, contestant_id, contestant_id)
    rows = await db.raw(
        "SELECT code FROM certificate WHERE contest = {} AND kind = 'participation' AND subject = {} AND NOT superseded",
        rnd["contest"],
        f"p:{contestant_id}",
    )
    return rows[0]["code"] if rows else None


# ---- reading ----------------------------------------------------------------------------------------

_CERT_SQL = """
SELECT x.*, c.title AS contest_title, c.slug AS contest_slug, r.title AS round_title, r.number AS round_number,
       m.name AS commune_name, v.name AS province_name
FROM certificate x
JOIN contest c ON c.id = x.contest
LEFT JOIN round r ON r.id = x.round
JOIN place m ON m.code = x.commune
LEFT JOIN province v ON v.code = m.province
"""


def clean_code(raw: str) -> str:
    """A code as typed or scanned: case, spaces and dashes do not matter."""
    return "".join(ch for ch in raw.lower() if ch in "0123456789abcdef")[:24]


async def by_code(code: str) -> dict | None:
    """One certificate with its contest, round and commune, or None for an unknown code."""
    code = clean_code(code)
    if len(code) != 20:
        return None
    rows = await db.raw(_CERT_SQL + "WHERE x.code = {}", code)
    return rows[0] if rows else None


def _round_filter(round_id: int, kind: str | None, commune: int | None) -> tuple[str, list[Any]]:
    sql = "WHERE x.round = {}"
    args: list[Any] = [round_id]
    if kind:
        sql += " AND x.kind = {}"
        args.append(kind)
    if commune is not None:
        sql += " AND x.commune = {}"
        args.append(commune)
    return sql, args


async def of_round(
    round_id: int, kind: str | None = None, commune: int | None = None, limit: int = 200, offset: int = 0
) -> list[dict]:
    """A round's certificates for the organiser's list (optionally one kind or one commune)."""
    where, args = _round_filter(round_id, kind, commune)
    order = " ORDER BY CASE x.kind WHEN 'collective' THEN 0 WHEN 'prize' THEN 1 ELSE 2 END, x.id LIMIT {} OFFSET {}"
    return await db.raw(_CERT_SQL + where + order, *args, limit, offset)


async def valid_of_round(round_id: int, kind: str | None = None, commune: int | None = None) -> list[dict]:
    """Every certificate of a round that is not revoked, by commune then holder: what a round's zip holds."""
    where, args = _round_filter(round_id, kind, commune)
    return await db.raw(_CERT_SQL + where + " AND x.revoked_at IS NULL ORDER BY m.name, x.kind, x.holder, x.id", *args)


async def bundle_counts(round_id: int) -> dict[str, tuple[int, int]]:
    """Per kind and for all ("all"): how many valid certificates a round has and over how many communes."""
    rows = await db.raw(
        "SELECT coalesce(kind, 'all') AS kind, count(*) AS n, count(DISTINCT commune) AS communes FROM certificate "
        "WHERE round = {} AND revoked_at IS NULL GROUP BY ROLLUP (kind)",
        round_id,
    )
    return {row["kind"]: (row["n"], row["communes"]) for row in rows}


async def counts_of_round(round_id: int) -> dict[str, int]:
    """How many certificates of each kind a round has awarded (revoked ones apart)."""
    rows = await db.raw(
        "SELECT kind, count(*) FILTER (WHERE revoked_at IS NULL) AS valid, count(*) FILTER (WHERE revoked_at IS NOT NULL) "
        "AS revoked FROM certificate WHERE round = {} GROUP BY kind",
        round_id,
    )
    out = {"participation": 0, "prize": 0, "collective": 0, "revoked": 0}
    for row in rows:
        out[row["kind"]] = row["valid"]
        out["revoked"] += row["revoked"]
    return out


async def awarded_count() -> int:
    """How many valid certificates exist on the whole site."""
    rows = await db.raw("SELECT count(*) AS n FROM certificate WHERE revoked_at IS NULL")
    return int(rows[0]["n"])


# ---- revocation -------------------------------------------------------------------------------------


async def revoke(actor: StaffUser, code: str, reason: str) -> None:
    """Revoke a certificate with a reason (audited); the verification page says so from then on."""
    reason = " ".join(reason.split())
    if not MIN_REASON <= len(reason) <= MAX_REASON:
        raise InputError({"reason": "reason_invalid"}, min=MIN_REASON, max=MAX_REASON)
    cert = await by_code(code)
    if cert is None:
        raise InputError({"code": "cert_not_found"})
    if cert["revoked_at"] is not None:
        raise InputError({"code": "cert_already_revoked"})
    await db.raw(
        "UPDATE certificate SET revoked_at = {}, revoke_reason = {}, revoked_by = {} WHERE id = {} AND revoked_at IS NULL",
        clock.now(),
        reason,
        actor.id,
        cert["id"],
    )
    await audit(actor.id, "certificate.revoke", cert["code"], reason=reason, kind=cert["kind"])


async def for_result_page(contestant_id: int, round_id: int) -> list[dict]:
    """The contestant's certificates of this round's contest, awarding participation first if the round earns it."""
    await award_participation(contestant_id, round_id)
    rows = await db.raw(
        _CERT_SQL + "WHERE x.contestant = {} AND x.contest = (SELECT contest FROM round WHERE id = {}) AND NOT x.superseded "
        "ORDER BY CASE x.kind WHEN 'prize' THEN 0 ELSE 1 END, x.id",
        contestant_id,
        round_id,
    )
    return rows
