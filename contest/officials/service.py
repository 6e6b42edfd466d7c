"""What commune officials and organisers see of participation, days in Vietnam time.

The figures (registrations, people, attempts, average best, per day, communes' ranks) come from the contest's
participation counters in Redis (leaderboard.counters), kept as attempts are ranked and people register, never
recounted per view; `contest leaderboards check` compares them with PostgreSQL. Someone "took part" when they have a
scored attempt that is not an organiser's preview and was not disqualified in a round whose results are published;
the day of an attempt is the day it was started in Asia/Ho_Chi_Minh. The contestant list (personal data, a page at a
time) is read from PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from contest import clock, db, keys, xlsx
from contest.clock import VN_TZ
from contest.i18n import DEFAULT, N_
from contest.leaderboard import counters, scorecode
from contest.redis import async_redis
from contest.text import composed, fold
from contest.translations import translations

PAGE_SIZE = 50
MAX_DAYS = 92  # a longer contest shows its last three months
# A scored attempt that counts (not an organiser's preview).
_COUNTED = "a.status = 'scored' AND NOT a.preview"

XLSX_HEADER = (
    N_("STT"),
    N_("Họ và tên"),
    N_("Số điện thoại"),
    N_("Năm sinh"),
    N_("Đối tượng"),
    N_("Số lượt thi"),
    N_("Điểm cao nhất"),
    N_("Thời gian tốt nhất (giây)"),
    N_("Ngày đăng ký"),
)


@dataclass(frozen=True)
class DayCount:
    day: date
    people: int
    attempts: int


@dataclass(frozen=True)
class CommuneRank:
    code: int
    name: str
    people: int
    attempts: int
    rank: int


@dataclass
class Summary:
    """Participation in a contest, in one commune or (commune None) everywhere."""

    contest_id: int
    contest_title: str
    commune: int | None
    commune_name: str
    province: int | None
    province_name: str
    today: date
    registered: int
    people: int
    people_today: int
    attempts: int
    average_best: float | None
    rank: int | None
    rank_of: int | None
    days: list[DayCount] = field(default_factory=list)
    # One of a contest's own units (ranked among that contest's units), not a commune.
    unit: bool = False


@dataclass(frozen=True)
class ContestantRow:
    id: int
    full_name: str
    phone: str
    birth_year: int
    group: str
    attempts: int
    best_correct: int | float | None  # in questions: 7.5 with partial credit
    best_ms: int | None
    registered_at: datetime


def today() -> date:
    """Today in Vietnam."""
    return clock.now().astimezone(VN_TZ).date()


async def contests() -> list[dict]:
    """Published contests, newest first (by their first round's opening, then by creation)."""
    return await db.raw(
        "SELECT c.id, c.title, c.slug, c.collectives, min(r.opens_at) AS opens_at FROM contest c "
        "LEFT JOIN round r ON r.contest = c.id AND r.state <> 'draft' WHERE c.published "
        "GROUP BY c.id ORDER BY min(r.opens_at) DESC NULLS LAST, c.id DESC"
    )


async def pick_contest(contest_id: int | None) -> dict | None:
    """The contest asked for if it is published, else the newest; None when there is none."""
    rows = await contests()
    chosen = next((c for c in rows if c["id"] == contest_id), None)
    return chosen or (rows[0] if rows else None)


async def commune(code: int) -> dict | None:
    """A commune with its province, or a contest's unit (a negative code, people.tables.unit_code) with its contest
    and no province; None when there is neither."""
    rows = await db.raw(
        "SELECT m.code, m.name, m.province, m.contest, coalesce(v.name, '') AS province_name FROM place m "
        "LEFT JOIN province v ON v.code = m.province WHERE m.code = {}",
        code,
    )
    return rows[0] if rows else None


async def communes_named(codes: list[int] | tuple[int, ...]) -> list[dict]:
    """These communes and units (code, name, province name or the unit's contest title), by name."""
    return await db.raw(
        "SELECT m.code, m.name, coalesce(v.name, c.title, '') AS province_name FROM place m "
        "LEFT JOIN province v ON v.code = m.province LEFT JOIN contest c ON c.id = m.contest "
        "WHERE m.code = ANY({}) ORDER BY m.name",
        list(codes),
    )


async def search_communes(text: str, limit: int = 30) -> list[dict]:
    """Communes whose name matches, without caring about accents ("thuy nguyen" finds "Thuỷ Nguyên")."""
    rows = await db.raw(
        "SELECT m.code, m.name, v.name AS province_name FROM commune m JOIN province v ON v.code = m.province "
        "ORDER BY v.name, m.name"
    )
    wanted = fold(text)
    found = [r for r in rows if wanted in fold(r["name"]) or wanted == str(r["code"])] if wanted else rows
    return found[:limit]


_MEASURES = (keys.PAIR_PEOPLE, keys.PAIR_ATTEMPTS, keys.PAIR_BEST, keys.REGISTERED, keys.DAY_PEOPLE, keys.DAY_ATTEMPTS)


async def tally(contest_id: int) -> counters.Tally:
    """The contest's participation counters, in one round trip."""
    return await counters.read(async_redis(), f"c{contest_id}", _MEASURES)


def _of(counts: dict[str, int], commune: int | None) -> int:
    """A "commune|group" counter summed over one commune's groups, or over everything (commune None)."""
    return sum(n for f, n in counts.items() if commune is None or counters.split_pair(f)[0] == commune)


def _per_day(counts: dict[str, int], commune: int | None) -> dict[date, int]:
    """A "day|commune" counter per day, for one commune or everywhere."""
    out: dict[date, int] = {}
    for f, n in counts.items():
        day, _, code = f.partition("|")
        if commune is None or int(code) == commune:
            out[date.fromisoformat(day)] = out.get(date.fromisoformat(day), 0) + n
    return out


async def daily(contest_id: int, commune: int | None = None, counted: counters.Tally | None = None) -> list[DayCount]:
    """People who took part and attempts, per day of the contest's period up to today (days without anyone included)."""
    counted = counted if counted is not None else await tally(contest_id)
    people, attempts = _per_day(counted[keys.DAY_PEOPLE], commune), _per_day(counted[keys.DAY_ATTEMPTS], commune)
    period = await db.raw(
        f"SELECT (min(opens_at) AT TIME ZONE '{VN_TZ.key}')::date AS first, "
        f"(max(closes_at) AT TIME ZONE '{VN_TZ.key}')::date AS last "
        "FROM round WHERE contest = {} AND state <> 'draft'",
        contest_id,
    )
    first, last = period[0]["first"], period[0]["last"]
    end = min(last or today(), today())
    if attempts:  # attempts outside the rounds' window (moved rounds) still show
        first = min(first or min(attempts), min(attempts))
        end = max(end, max(attempts))
    if first is None or first > end:
        return []
    first = max(first, end - timedelta(days=MAX_DAYS - 1))
    out = []
    day = first
    while day <= end:
        out.append(DayCount(day, people.get(day, 0), attempts.get(day, 0)))
        day += timedelta(days=1)
    return out


async def commune_ranking(contest_id: int, province: int, counted: counters.Tally | None = None) -> list[CommuneRank]:
    """Every commune of a province by people who took part, most first; equal counts share a rank."""
    counted = counted if counted is not None else await tally(contest_id)
    people, attempts = counters.by_commune(counted[keys.PAIR_PEOPLE]), counters.by_commune(counted[keys.PAIR_ATTEMPTS])
    rows = await db.raw("SELECT code, name FROM commune WHERE province = {}", province)
    return _ranks(rows, people, attempts)


async def unit_ranking(contest_id: int, counted: counters.Tally | None = None) -> list[CommuneRank]:
    """Every unit people join in a contest with its own units, by people who took part, most first."""
    counted = counted if counted is not None else await tally(contest_id)
    people, attempts = counters.by_commune(counted[keys.PAIR_PEOPLE]), counters.by_commune(counted[keys.PAIR_ATTEMPTS])
    rows = await db.raw(
        "SELECT -u.id AS code, u.name FROM unit u WHERE u.contest = {} "
        "AND NOT EXISTS (SELECT 1 FROM unit k WHERE k.parent = u.id)",
        contest_id,
    )
    return _ranks(rows, people, attempts)


def _ranks(rows: list[dict], people: dict[int, int], attempts: dict[int, int]) -> list[CommuneRank]:
    rows.sort(key=lambda r: (-people.get(r["code"], 0), -attempts.get(r["code"], 0), fold(r["name"])))
    out: list[CommuneRank] = []
    for i, r in enumerate(rows):
        n = people.get(r["code"], 0)
        rank = out[-1].rank if out and out[-1].people == n else i + 1
        out.append(CommuneRank(r["code"], r["name"], n, attempts.get(r["code"], 0), rank))
    return out


async def contest_provinces(contest_id: int) -> list[dict]:
    """The provinces a contest ranks communes in: those named by its rules, else those its contestants come from."""
    rules = await db.raw("SELECT provinces FROM contest WHERE id = {}", contest_id)
    named = list(rules[0]["provinces"] or []) if rules else []
    if named:
        return await db.raw("SELECT code, name FROM province WHERE code = ANY({}) ORDER BY name", named)
    registered = counters.by_commune((await counters.read(async_redis(), f"c{contest_id}", [keys.REGISTERED]))[keys.REGISTERED])
    return await db.raw(
        "SELECT v.code, v.name FROM province v WHERE v.code IN (SELECT m.province FROM commune m WHERE m.code = ANY({})) "
        "ORDER BY v.name",
        list(registered),
    )


async def summary(contest: dict, code: int | None = None) -> Summary:
    """Participation in a contest: in one commune (with its rank among its province's communes) or everywhere."""
    contest_id = contest["id"]
    now_day = today()
    counted = await tally(contest_id)
    people = _of(counted[keys.PAIR_PEOPLE], code)
    best_sum = _of(counted[keys.PAIR_BEST], code)
    place = await commune(code) if code is not None else None
    rank = rank_of = None
    if place is not None:
        if place["contest"] is not None:
            ranking = await unit_ranking(contest_id, counted)
        else:
            ranking = await commune_ranking(contest_id, place["province"], counted)
        rank = next((r.rank for r in ranking if r.code == code), None)
        rank_of = len(ranking)
    return Summary(
        contest_id=contest_id,
        contest_title=contest["title"],
        commune=code,
        commune_name=place["name"] if place else "",
        province=place["province"] if place else None,
        province_name=place["province_name"] if place else "",
        today=now_day,
        registered=_of(counted[keys.REGISTERED], code),
        people=people,
        people_today=_per_day(counted[keys.DAY_PEOPLE], code).get(now_day, 0),
        attempts=_of(counted[keys.PAIR_ATTEMPTS], code),
        average_best=round(best_sum / people / scorecode.UNIT, 2) if people else None,
        rank=rank,
        rank_of=rank_of,
        days=await daily(contest_id, code, counted),
        unit=place is not None and place["contest"] is not None,
    )


async def contestants(contest_id: int, code: int, page: int = 1, size: int | None = PAGE_SIZE) -> list[ContestantRow]:
    """A commune's contestants in a contest, best first (more points, then shorter time), then by name."""
    limit = f" LIMIT {int(size)} OFFSET {max(0, page - 1) * int(size)}" if size else ""
    rows = await db.raw(
        f"""SELECT p.id, p.full_name, p.phone, p.birth_year, p."group", p.created_at,
                   coalesce(n.attempts, 0) AS attempts, b.points, b.duration_ms
            FROM contestant p
            LEFT JOIN LATERAL (SELECT count(*) AS attempts FROM attempt a WHERE a.contestant = p.id AND {_COUNTED}) n ON true
            LEFT JOIN LATERAL (SELECT a.points, a.duration_ms FROM attempt a WHERE a.contestant = p.id AND {_COUNTED}
                               ORDER BY a.points DESC, a.duration_ms ASC LIMIT 1) b ON true
            WHERE p.contest = {{}} AND p.collective = {{}}
            ORDER BY b.points DESC NULLS LAST, b.duration_ms ASC NULLS LAST, p.full_name, p.id{limit}""",
        contest_id,
        code,
    )
    return [
        ContestantRow(
            r["id"],
            r["full_name"],
            r["phone"],
            r["birth_year"],
            r["group"],
            int(r["attempts"]),
            scorecode.in_questions(r["points"]),
            r["duration_ms"],
            r["created_at"],
        )
        for r in rows
    ]


def _text(value: Any) -> Any:
    return composed(value) if isinstance(value, str) else value


def contestants_xlsx(rows: list[ContestantRow], group_names: dict[str, str], lang: str = DEFAULT) -> bytes:
    """The contestant list as an xlsx sheet: headers in the reader's language, NFC text, phones kept as text, never
    formulas."""
    t = translations(lang)
    return xlsx.workbook(
        t.gettext("Người dự thi"),
        [t.gettext(h) for h in XLSX_HEADER],
        ([_text(v) for v in _contestant_values(i, r, group_names)] for i, r in enumerate(rows, start=1)),
        widths=(6, 30, 14, 10, 26, 12, 20, 22, 18),
    )


def _contestant_values(i: int, r: ContestantRow, group_names: dict[str, str]) -> list[Any]:
    return [
        i,
        r.full_name,
        r.phone,
        r.birth_year,
        group_names.get(r.group, r.group),
        r.attempts,
        r.best_correct,
        round(r.best_ms / 1000, 2) if r.best_ms is not None else None,
        r.registered_at.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M"),
    ]
