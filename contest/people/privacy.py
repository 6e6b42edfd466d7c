"""Personal data under Law 91/2025/QH15: the consent text's version, what is held about a person,
export and erasure on request, and the purge after each contest's retention period.

Erasure anonymises rather than deletes: the registration row keeps its commune, group and scores, so
participation counts, boards and collective rankings stay exactly as they were.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from contest import clock, db, keys, shared
from contest.certificates.files import forget_renders
from contest.contests.tables import DEFAULT_RETENTION_DAYS
from contest.db import engine
from contest.i18n import InputError
from contest.people.duplicates import REVIEWED
from contest.people.phone import ERASED_NAME, normalise_phone
from contest.redis import async_redis
from contest.settings import ROOT
from contest.staff.audit import audit
from contest.staff.signin import StaffUser

CONSENT_TEMPLATE = ROOT / "templates" / "people" / "_consent.html"
# Bumped by hand when the meaning changes; the hash follows every edit of the text anyway.
CONSENT_LABEL = "2026.1"
REASON_MIN, REASON_MAX = 5, 500
PURGE_BATCH = 1000


@cache
def consent_version() -> str:
    """The version of the consent text shown now: a label and a hash of the text, so any edit is a new version."""
    return f"{CONSENT_LABEL}-{hashlib.sha256(CONSENT_TEMPLATE.read_bytes()).hexdigest()[:12]}"


def placeholder_phone(contestant_id: int) -> str:
    """An erased row's phone: unique per row (the per-contest constraint holds), never a number, derived from
    nothing the person gave. Under 8 characters, so public pages mask it whole."""
    digits, n = "", contestant_id
    while True:
        n, d = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[d] + digits
        if n == 0:
            return "x" + digits


async def retention_days(contest_id: int) -> int:
    """How many days a contest keeps personal data after its last round's results are published."""
    row = await db.raw("SELECT retention_days FROM contest WHERE id = {}", contest_id)
    return int(row[0]["retention_days"]) if row else DEFAULT_RETENTION_DAYS


# ---- what is held about one person ------------------------------------------------------------------


@dataclass
class Held:
    """Everything held about the person behind one phone number, over every contest."""

    phone: str
    registrations: list[dict] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    certificates: list[dict] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        return [r["id"] for r in self.registrations]


_REGISTRATIONS_SQL = """
SELECT p.id, p.contest, c.title AS contest_title, c.slug AS contest_slug, p.full_name, p.phone, p.birth_year,
       p.collective AS commune, m.name AS commune_name, v.name AS province_name, p."group", p.consented_at, p.consent_version,
       p.created_at, p.registered_ip
FROM contestant p JOIN contest c ON c.id = p.contest JOIN place m ON m.code = p.collective
LEFT JOIN province v ON v.code = m.province
WHERE p.phone = {} AND p.erased_at IS NULL ORDER BY p.created_at, p.id
"""
_ATTEMPTS_SQL = """
SELECT a.id, a.contestant, a.round, r.number AS round_number, r.title AS round_title, c.title AS contest_title,
       a.status, a.started_at, a.deadline, a.submitted_at, a.auto_submitted, a.prediction, a.correct, a.points,
       a.total, a.duration_ms
FROM attempt a JOIN round r ON r.id = a.round JOIN contest c ON c.id = r.contest
WHERE a.contestant = ANY({}::int[]) AND NOT a.preview ORDER BY a.started_at, a.id
"""
_ANSWERS_SQL = """
SELECT i.attempt, i.position, i.question, i.chosen, i.chosen_set, i.answered_at FROM attempt_item i
WHERE i.attempt = ANY({}::int[]) ORDER BY i.attempt, i.position
"""
_RESULTS_SQL = """
SELECT rr.contestant, rr.round, r.number AS round_number, r.title AS round_title, c.title AS contest_title, rr.rank,
       rr.correct, rr.points, rr.prediction, rr.prediction_gap, rr.duration_ms, rr.submitted_at, rr.prize, rr.disqualified,
       rr.reason, r.results_published_at
FROM round_result rr JOIN round r ON r.id = rr.round JOIN contest c ON c.id = r.contest
WHERE rr.contestant = ANY({}::int[]) ORDER BY c.id, r.number
"""
# The certificate table by name only: its module belongs to the certificates domain.
_CERTIFICATES_SQL = """
SELECT x.code, x.kind, x.contestant, x.contest, c.title AS contest_title, x.round, x.holder, x.prize, x.correct,
       x.points, x.total, x.issued_at, x.revoked_at
FROM certificate x JOIN contest c ON c.id = x.contest
WHERE x.contestant = ANY({}::int[]) ORDER BY x.issued_at, x.id
"""


def _phone(raw: str) -> str:
    phone = normalise_phone(raw or "")
    if phone is None:
        raise InputError({"phone": "phone_invalid"})
    return phone


async def held_about(raw_phone: str) -> Held:
    """Registrations, attempts, results and certificates of the person with this phone (any written form)."""
    held = Held(_phone(raw_phone))
    held.registrations = await db.raw(_REGISTRATIONS_SQL, held.phone)
    if held.ids:
        held.attempts = await db.raw(_ATTEMPTS_SQL, held.ids)
        held.results = await db.raw(_RESULTS_SQL, held.ids)
        held.certificates = await db.raw(_CERTIFICATES_SQL, held.ids)
    return held


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(rows: list[dict]) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


async def export_person(actor: StaffUser, raw_phone: str) -> tuple[str, bytes]:
    """Everything held about a person as (file name, UTF-8 JSON), answers included; audited without the phone."""
    held = await held_about(raw_phone)
    if not held.ids:
        raise InputError({"phone": "privacy_nothing_held"})
    answers: dict[int, list[dict]] = {}
    for row in await db.raw(_ANSWERS_SQL, [a["id"] for a in held.attempts]):
        answers.setdefault(row["attempt"], []).append({k: _plain(v) for k, v in row.items() if k != "attempt"})
    now = clock.now()
    document = {
        "generated_at": now.isoformat(),
        "phone": held.phone,
        "registrations": _rows(held.registrations),
        "attempts": [{**a, "answers": answers.get(a["id"], [])} for a in _rows(held.attempts)],
        "results": _rows(held.results),
        "certificates": _rows(held.certificates),
    }
    await audit(actor.id, "privacy.export", _target(held.ids), contestants=held.ids)
    body = json.dumps(document, ensure_ascii=False, indent=2).encode()
    return f"du-lieu-ca-nhan-{now:%Y%m%d-%H%M%S}.json", body


def _target(ids: list[int]) -> str:
    # Contestant ids, never the phone or the name: the audit log outlives the data it records.
    return ("contestant:" + ",".join(map(str, ids)))[:200]


# ---- erasure ----------------------------------------------------------------------------------------

_ERASE_SQL = """
UPDATE contestant AS p SET full_name = {}, phone = v.placeholder, birth_year = NULL, registered_ip = NULL, erased_at = {}
FROM unnest({}::int[], {}::text[]) AS v(id, placeholder)
WHERE p.id = v.id AND p.erased_at IS NULL RETURNING p.id, p.contest
"""
_CERTIFICATE_HOLDER_SQL = "UPDATE certificate SET holder = {} WHERE contestant = ANY({}::int[]) RETURNING code, contest, round"
# A duplicate review keeps its group's key (a folded name, an address or a phone) in the audit log.
_REVIEW_KEY_SQL = """
UPDATE audit_entry SET detail = jsonb_set(detail, ARRAY['key'], to_jsonb({}::text))
WHERE action = {} AND jsonb_typeof(detail -> 'people') = 'array'
  AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(detail -> 'people') e WHERE e::int = ANY({}::int[]))
"""


async def erase_contestants(ids: list[int]) -> int:
    """Anonymise these registrations (name, phone, birth year, address, certificate holders); returns how many
    were not anonymised already. Attempts, scores, commune and group stay for anonymous statistics."""
    count, contests = await _anonymise(ids)
    await _drop_board_fragments(contests)
    return count


async def _anonymise(ids: list[int]) -> tuple[int, set[int]]:
    """The rows, in one transaction, and the rendered certificates; returns how many and their contests."""
    if not ids:
        return 0, set()
    async with engine().transaction():
        erased = await db.raw(_ERASE_SQL, ERASED_NAME, clock.now(), ids, [placeholder_phone(i) for i in ids])
        certificates = await db.raw(_CERTIFICATE_HOLDER_SQL, ERASED_NAME, ids)
        await db.raw(_REVIEW_KEY_SQL, ERASED_NAME, REVIEWED, ids)
    forget_renders(certificates)
    return len(erased), {r["contest"] for r in erased}


async def _drop_board_fragments(contests: set[int]) -> None:
    """Public board fragments are cached a few seconds with names in them: drop those of these contests now."""
    if not contests:
        return
    rounds = await db.raw("SELECT id FROM round WHERE contest = ANY({}::int[])", sorted(contests))
    prefixes = tuple(keys.board_fragment(scope, "") for scope in [*(str(r["id"]) for r in rounds), *(f"c{c}" for c in contests)])
    r = async_redis()
    async for key in r.scan_iter(match=keys.board_fragment("*", "*"), count=1000):
        if key.startswith(prefixes):
            await r.delete(key)
    await shared.drop_all()  # the shared pages (boards, results) with names on them


async def erase_person(actor: StaffUser, raw_phone: str, confirmation: str, reason: str) -> int:
    """On the person's request: anonymise every registration of this phone. The phone is typed again to confirm,
    and the reason goes to the audit log. Returns how many registrations were anonymised."""
    phone = _phone(raw_phone)
    errors: dict[str, str] = {}
    if normalise_phone(confirmation or "") != phone:
        errors["confirmation"] = "privacy_confirm_mismatch"
    reason = " ".join((reason or "").split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        errors["reason"] = "reason_invalid"
    if errors:
        raise InputError(errors, min=REASON_MIN, max=REASON_MAX)
    held = await held_about(phone)
    if not held.ids:
        raise InputError({"phone": "privacy_nothing_held"})
    count = await erase_contestants(held.ids)
    contests = sorted({r["contest"] for r in held.registrations})
    await audit(actor.id, "privacy.erase", _target(held.ids), contestants=held.ids, contests=contests, reason=reason)
    return count


# ---- retention --------------------------------------------------------------------------------------

# A contest is past retention when its last round's results were published more than retention_days ago.
_EXPIRED_SQL = """
SELECT c.id FROM contest c
JOIN LATERAL (SELECT r.results_published_at FROM round r WHERE r.contest = c.id ORDER BY r.number DESC LIMIT 1) last ON true
WHERE last.results_published_at IS NOT NULL AND last.results_published_at + make_interval(days => c.retention_days) < {}
ORDER BY c.id
"""
# People are their phone: someone also registered in a contest still in retention waits for it.
_ELSEWHERE = """EXISTS (SELECT 1 FROM contestant q WHERE q.phone = p.phone AND q.erased_at IS NULL
                        AND NOT (q.contest = ANY({}::int[])))"""
_DUE_SQL = f"""
SELECT p.id FROM contestant p WHERE p.erased_at IS NULL AND p.contest = ANY({{}}::int[]) AND NOT {_ELSEWHERE}
ORDER BY p.id LIMIT {{}}
"""
_WAITING_SQL = f"""
SELECT count(*) AS n FROM contestant p WHERE p.erased_at IS NULL AND p.contest = ANY({{}}::int[]) AND {_ELSEWHERE}
"""
_DUE_COUNT_SQL = f"""
SELECT count(*) AS n FROM contestant p WHERE p.erased_at IS NULL AND p.contest = ANY({{}}::int[]) AND NOT {_ELSEWHERE}
"""


@dataclass
class PurgeReport:
    """What a purge did: contests past retention, registrations anonymised, and those kept for another contest."""

    contests: list[int]
    anonymised: int
    waiting: int
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"contests": self.contests, "anonymised": self.anonymised, "waiting": self.waiting, "dry_run": self.dry_run}


async def expired_contests(now: datetime | None = None) -> list[int]:
    """Contests whose last round's results were published more than their retention_days ago."""
    return [r["id"] for r in await db.raw(_EXPIRED_SQL, now or clock.now())]


async def purge(dry_run: bool = False, batch: int = PURGE_BATCH) -> PurgeReport:
    """Anonymise every registration of contests past retention (idempotent); a dry run only counts them."""
    contests = await expired_contests()
    if not contests:
        return PurgeReport([], 0, 0, dry_run)
    waiting = int((await db.raw(_WAITING_SQL, contests, contests))[0]["n"])
    if dry_run:
        due = int((await db.raw(_DUE_COUNT_SQL, contests, contests))[0]["n"])
        return PurgeReport(contests, due, waiting, True)
    anonymised, touched = 0, set[int]()
    while ids := [r["id"] for r in await db.raw(_DUE_SQL, contests, contests, batch)]:
        count, where = await _anonymise(ids)
        anonymised, touched = anonymised + count, touched | where
    await _drop_board_fragments(touched)
    if anonymised:
        await audit(None, "privacy.purge", f"contest:{','.join(map(str, contests))}"[:200], anonymised=anonymised,
                    waiting=waiting, contests=contests)  # fmt: skip
    return PurgeReport(contests, anonymised, waiting)
