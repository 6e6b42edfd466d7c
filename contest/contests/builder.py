"""Building contests and rounds: organisers' forms to rows, the bank check, and state changes (publishing a
round, its results). Reading contests and rounds is `contests.service`; previews and live counts `contests.preview`.

Nothing that affects scoring changes once a round has a real (non-preview) attempt: its draw, time limit,
attempts allowed, pass mark, prediction question and opening time stay as contestants met them. Its close
may still move later (attempts already started keep the deadline fixed at their start, so a later close
changes nobody's result), never earlier (that would cut short attempts in progress and shut people out).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contest import clock, db
from contest.clock import VN_TZ
from contest.contests.service import contest_row, round_row
from contest.contests.tables import DEFAULT_RETENTION_DAYS, Contest, Round
from contest.digits import is_digits, read_int
from contest.i18n import InputError, message
from contest.people.tables import GROUPS
from contest.staff.audit import audit
from contest.staff.signin import StaffUser
from contest.text import fold, nfc

HAI_PHONG = 31
MAX_SLUG = 60
# Fields contestants' results depend on: frozen once a round has a real attempt.
# Once results are computed they depend on everything else of a round (prizes, pass mark, draw, window, prediction).
EDITABLE_AFTER_RESULTS = ("title",)
SCORING_FIELDS = ("quotas", "time_limit_seconds", "max_attempts", "opens_at", "pass_mark", "ask_prediction")
# How a question with several correct options is scored (Contest.partial_credit): all or nothing, or in part.
SCORINGS = ("all", "partial")
# Days personal data is kept after the last round's results: long enough to award prizes and certificates.
RETENTION_MIN, RETENTION_MAX = 30, 3650


# ---- reading forms ---------------------------------------------------------------------------------


def slugify(title: str) -> str:
    """ "Công dân số Hải Phòng 2025" -> "cong-dan-so-hai-phong-2025"."""
    return "-".join(fold(title).split())[:MAX_SLUG].strip("-") or "cuoc-thi"


def _int(value: Any, field: str, code: str, low: int, high: int, blank: int | None = None) -> int | None:
    text = str(value if value is not None else "").strip()
    if text == "":
        if blank is None:
            raise InputError({field: code}, min=low, max=high)
        return blank if blank >= 0 else None
    if not is_digits(text) or not low <= int(text) <= high:
        raise InputError({field: code}, min=low, max=high)
    return int(text)


def read_quotas(form: Mapping[str, Any]) -> dict[str, int]:
    """The quotas editor: fields "quota.<topic>" and "quota.<topic>:<difficulty>", empty or 0 = none."""
    quotas: dict[str, int] = {}
    for name, value in form.items():
        if not name.startswith("quota."):
            continue
        key = name.removeprefix("quota.")
        n = _int(value, "quotas", "quota_invalid", 0, 200, blank=0)
        if n:
            quotas[key] = n
    return dict(sorted(quotas.items()))


def read_time(value: Any, field: str) -> datetime:
    """A time typed in Vietnam time ("2025-03-03T08:00" or "03/03/2025 08:00"), as UTC."""
    text = str(value or "").strip()
    for parse in (datetime.fromisoformat, lambda t: datetime.strptime(t, "%d/%m/%Y %H:%M")):
        try:
            local = parse(text)
        except ValueError:
            continue
        return local.replace(tzinfo=VN_TZ).astimezone(UTC) if local.tzinfo is None else local.astimezone(UTC)
    raise InputError({field: "time_invalid"})


def vn_input(dt: datetime | None) -> str:
    """UTC -> the value of a datetime-local input in Vietnam time."""
    return dt.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M") if dt else ""


def _codes(values: list[str]) -> list[int]:
    return sorted({n for n in map(read_int, values) if n is not None})


# ---- contests --------------------------------------------------------------------------------------


async def _unique_slug(title: str, contest_id: int | None) -> str:
    base = slugify(title)
    slug, n = base, 1
    while await Contest.exists().where((Contest.slug == slug) & (Contest.id != (contest_id or 0))):
        n += 1
        suffix = f"-{n}"
        slug = base[: MAX_SLUG - len(suffix)] + suffix
    return slug


async def save_contest(actor: StaffUser, form: Mapping[str, Any], groups: list[str], provinces: list[str],
                       communes: list[str], contest_id: int | None = None) -> int:  # fmt: skip
    """Create or edit a contest from its form; the slug follows the title on creation only (links stay valid)."""
    title = nfc(str(form.get("title", "")))
    if not 3 <= len(title) <= 200:
        raise InputError({"title": "title_required"})
    quotas = read_quotas(form)
    limit = _int(form.get("time_limit_minutes"), "time_limit", "time_limit_invalid", 1, 180)
    assert limit is not None
    if not quotas:
        raise InputError({"quotas": "quotas_required"})
    bad_groups = [g for g in groups if g not in GROUPS]
    if bad_groups:
        raise InputError({"groups": "group_invalid"})
    # Blank keeps what the contest has (the default for a new one).
    retention = _int(form.get("retention_days"), "retention_days", "retention_invalid", RETENTION_MIN, RETENTION_MAX, blank=-1)
    values: dict[str, Any] = {
        "title": title,
        "description": nfc(str(form.get("description", ""))),
        "rules": nfc(str(form.get("rules", ""))),
        "quotas": quotas,
        "time_limit_seconds": limit * 60,
        "provinces": _codes(provinces),
        "communes": _codes(communes),
        "groups": sorted(set(groups)),
    }
    if retention is not None or contest_id is None:
        values["retention_days"] = retention or DEFAULT_RETENTION_DAYS
    partial = _partial_credit(form)
    if partial is not None or contest_id is None:
        values["partial_credit"] = bool(partial)
    if contest_id is None:
        slug = await _unique_slug(title, None)
        rows = await Contest.insert(Contest(slug=slug, published=False, **{**values, "quotas": json.dumps(quotas)})).returning(
            Contest.id
        )
        contest_id = int(rows[0]["id"])
        await audit(actor.id, "contest.create", slug, **values)
        return contest_id
    old = await contest_row(contest_id)
    changed = {k: v for k, v in values.items() if old[k] != v}
    inherited: list[str] = [k for k in ("quotas", "time_limit_seconds") if k in changed]
    if inherited and await _attempts_in(contest_id, inheriting=inherited):
        raise InputError({"quotas": "contest_locked"})
    # Every attempt of a contest is scored by one rule: the choice is fixed once anyone has started.
    if "partial_credit" in changed and await _attempts_in(contest_id, inheriting=[]):
        raise InputError({"partial_credit": "partial_credit_locked"})
    if changed:
        if "quotas" in changed:
            changed["quotas"] = json.dumps(quotas)
        await Contest.update(changed).where(Contest.id == contest_id)  # type: ignore[arg-type]
        await audit(actor.id, "contest.edit", old["slug"], **{k: values[k] for k in changed})
    return contest_id


async def set_contest_published(actor: StaffUser, contest_id: int, published: bool) -> None:
    """Show or hide the whole contest to contestants (its rounds still need publishing one by one)."""
    row = await contest_row(contest_id)
    await Contest.update({Contest.published: published}).where(Contest.id == contest_id)
    await audit(actor.id, "contest.publish" if published else "contest.unpublish", row["slug"])


def _partial_credit(form: Mapping[str, Any]) -> bool | None:
    """The scoring of questions with several correct options: "partial" or "all" (None when not sent)."""
    chosen = str(form.get("scoring") or "").strip()
    if chosen not in ("", *SCORINGS):
        raise InputError({"partial_credit": "scoring_invalid"})
    return chosen == "partial" if chosen else None


async def _attempts_in(contest_id: int, inheriting: list[str]) -> bool:
    """Whether a round using the contest's own value of these fields (any round when none is named) has a real
    attempt."""
    nulls = " OR ".join(f"r.{field} IS NULL" for field in inheriting) or "true"
    rows = await db.raw(
        f"SELECT 1 FROM attempt a JOIN round r ON r.id = a.round WHERE r.contest = {{}} AND NOT a.preview AND ({nulls}) LIMIT 1",
        contest_id,
    )
    return bool(rows)


# ---- the bank check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shortfall:
    key: str
    topic: str
    wanted: int
    available: int

    @property
    def missing(self) -> int:
        return self.wanted - self.available


async def bank_counts() -> dict[str, dict[int, int]]:
    """Active questions per topic slug and difficulty that contests may draw (practice questions are public)."""
    rows = await db.raw(
        "SELECT t.slug, q.difficulty, count(*) AS n FROM question q JOIN topic t ON t.id = q.topic "
        "WHERE q.active AND q.practice_since IS NULL GROUP BY t.slug, q.difficulty"
    )
    out: dict[str, dict[int, int]] = {}
    for r in rows:
        out.setdefault(r["slug"], {})[r["difficulty"]] = int(r["n"])
    return out


async def topics() -> list[dict]:
    return await db.raw("SELECT slug, name FROM topic ORDER BY id")


async def bank_can_fill(quotas: Mapping[str, int]) -> list[Shortfall]:
    """What the active bank lacks for these quotas, per key (empty when a draw can always succeed).

    A "topic" key draws from what the "topic:difficulty" keys of the same topic leave, so nothing counts twice.
    """
    counts = await bank_counts()
    names = {t["slug"]: t["name"] for t in await topics()}
    short: list[Shortfall] = []
    by_topic: dict[str, dict[int | None, int]] = {}
    for key, n in quotas.items():
        topic, _, level = key.partition(":")
        by_topic.setdefault(topic, {})[read_int(level)] = n
    for topic, wants in by_topic.items():
        have = counts.get(topic, {})
        used = 0
        for difficulty, wanted in sorted((lv, n) for lv, n in wants.items() if lv is not None):
            available = have.get(difficulty, 0)
            used += min(wanted, available)
            if wanted > available:
                short.append(Shortfall(f"{topic}:{difficulty}", names.get(topic, topic), wanted, available))
        if None in wants:
            left = sum(have.values()) - used
            if wants[None] > left:
                short.append(Shortfall(topic, names.get(topic, topic), wants[None], max(0, left)))
    return short


class BankShortfall(InputError):
    """The bank cannot fill a round's draw: one message per topic short of questions."""

    def __init__(self, shortfalls: list[Shortfall]) -> None:
        super().__init__({s.key: "bank_short" for s in shortfalls})
        self.shortfalls = shortfalls

    def messages(self, lang: str = "vi") -> dict[str, str]:
        return {
            s.key: message(
                "bank_short_level" if ":" in s.key else "bank_short",
                lang,
                topic=s.topic,
                level=s.key.partition(":")[2],
                wanted=s.wanted,
                available=s.available,
                missing=s.missing,
            )  # fmt: skip
            for s in self.shortfalls
        }


# ---- rounds ----------------------------------------------------------------------------------------


def read_title(form: Mapping[str, Any]) -> dict[str, Any]:
    """A round's title alone (what its form still sends once the results are computed)."""
    title = nfc(str(form.get("title", "")))
    if not 2 <= len(title) <= 200:
        raise InputError({"title": "title_required"})
    return {"title": title}


def read_round(form: Mapping[str, Any], names: list[str], counts: list[str]) -> dict[str, Any]:
    """A round's form as column values (times in UTC, blanks meaning the contest's draw and time limit)."""
    title = read_title(form)["title"]
    opens, closes = read_time(form.get("opens_at"), "opens_at"), read_time(form.get("closes_at"), "closes_at")
    if closes <= opens:
        raise InputError({"closes_at": "window_invalid"})
    limit = _int(form.get("time_limit_minutes"), "time_limit", "time_limit_invalid", 1, 180, blank=-1)
    prizes = []
    for name, count in zip(names, counts, strict=False):
        if nfc(name):
            n = _int(count, "prizes", "prize_invalid", 1, 10_000)
            prizes.append({"name": nfc(name), "count": n})
    quotas = read_quotas(form)
    return {
        "title": title,
        "opens_at": opens,
        "closes_at": closes,
        "max_attempts": _int(form.get("max_attempts"), "max_attempts", "max_attempts_invalid", 1, 20),
        "quotas": quotas or None,
        "time_limit_seconds": limit * 60 if limit else None,
        "pass_mark": _int(form.get("pass_mark"), "pass_mark", "pass_mark_invalid", 0, 500, blank=-1),
        "prizes": prizes,
        "ask_prediction": form.get("ask_prediction") == "yes",
    }


async def create_round(actor: StaffUser, contest_id: int, values: dict[str, Any]) -> int:
    """Add a draft round, numbered after the last one."""
    contest = await contest_row(contest_id)
    last = await db.raw("SELECT coalesce(max(number), 0) AS n FROM round WHERE contest = {}", contest_id)
    rows = await Round.insert(
        Round(
            contest=contest_id,
            number=last[0]["n"] + 1,
            state="draft",
            **{**values, "quotas": _json_or_none(values["quotas"]), "prizes": json.dumps(values["prizes"])},
        )
    ).returning(Round.id)
    await audit(actor.id, "round.create", f"{contest['slug']}#{last[0]['n'] + 1}", **values)
    return int(rows[0]["id"])


def _same_minute(a: datetime, b: datetime) -> bool:
    return a.replace(second=0, microsecond=0) == b.replace(second=0, microsecond=0)


def _json_or_none(value: Any) -> str | None:
    return json.dumps(value) if value is not None else None


async def update_round(actor: StaffUser, round_id: int, values: dict[str, Any]) -> None:
    """Edit a round; once it has real attempts, refuse any change to what results depend on, and once its results are
    computed, any change but its title (the organiser reopens the results first, with a reason)."""
    old = await round_row(round_id)
    # The form shows times to the minute: the same minute typed back is no change.
    changed = {k: v for k, v in values.items() if old[k] != v and not (k.endswith("_at") and _same_minute(old[k], v))}
    if old["participants_final"] is not None:
        frozen = [k for k in changed if k not in EDITABLE_AFTER_RESULTS]
        if frozen:
            raise InputError({frozen[0]: "results_locked"})
    if old["has_attempts"]:
        frozen = [k for k in SCORING_FIELDS if k in changed]
        if frozen:
            raise InputError({frozen[0]: "round_locked"})
        if "closes_at" in changed and changed["closes_at"] < old["closes_at"]:
            raise InputError({"closes_at": "close_earlier_locked"})
    if not changed:
        return
    columns: dict[str, Any] = dict(changed)
    if "quotas" in columns:
        columns["quotas"] = _json_or_none(columns["quotas"])
    if "prizes" in columns:
        columns["prizes"] = json.dumps(columns["prizes"])
    await Round.update(columns).where(Round.id == round_id)  # type: ignore[arg-type]
    await audit(actor.id, "round.edit", f"{old['contest_slug']}#{old['number']}", **changed)


async def publish_round(actor: StaffUser, round_id: int) -> None:
    """draft -> published, only when the bank can fill its draw."""
    row = await round_row(round_id)
    if row["state"] != "draft":
        raise InputError({"state": "state_invalid"})
    if not row["draw"]:
        raise InputError({"quotas": "quotas_required"})
    short = await bank_can_fill(row["draw"])
    if short:
        raise BankShortfall(short)
    await _set_state(actor, row, "published")


async def unpublish_round(actor: StaffUser, round_id: int) -> None:
    """published -> draft, while nobody has taken it."""
    row = await round_row(round_id)
    if row["state"] != "published":
        raise InputError({"state": "state_invalid"})
    if row["has_attempts"]:
        raise InputError({"state": "draft_locked"})
    await _set_state(actor, row, "draft")


async def publish_results(actor: StaffUser, round_id: int) -> None:
    """published -> results, once the round has closed."""
    row = await round_row(round_id)
    if row["state"] != "published":
        raise InputError({"state": "state_invalid"})
    if clock.now() < row["closes_at"]:
        raise InputError({"state": "results_too_early"})
    await _set_state(actor, row, "results")


async def _set_state(actor: StaffUser, row: dict, state: str) -> None:
    await Round.update({Round.state: state}).where(Round.id == row["id"])
    await audit(actor.id, f"round.{state}", f"{row['contest_slug']}#{row['number']}", previous=row["state"])
