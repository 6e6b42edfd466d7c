"""Vietnamese by default, English on request: the switch, the catalogs, and numbers and dates in each language's way."""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import openpyxl
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment
from jinja2.filters import do_truncate

from contest.certificates.design import SAMPLE_NAMES
from contest.contests.tables import Contest, Round
from contest.formatting import day, decimal, duration, local, number, time_left
from contest.leaderboard.population import population_template
from contest.officials.service import contestants_xlsx
from contest.people.tables import Commune, Province, Unit
from contest.questions.tables import Option, Question, Topic
from contest.results.service import to_xlsx
from contest.staff.audit import shown_details
from contest.staff.tables import AuditEntry, Staff
from contest.translations import LOCALES
from tests.conftest import ROOT, client_for
from tests.factories import answer
from tests.staff.test_signin import csrf_of, sign_in, staff
from tests.test_journey import register_by_form

VIETNAMESE = re.compile(r"[^\W\d_]*[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ][^\W\d_]*", re.I)
SHOWN_ATTRIBUTES = {"aria-label", "placeholder", "title", "alt"}  # text people read or hear, besides the page's own
CERTIFICATE_EXAMPLES = [
    "ỦY BAN NHÂN DÂN / THÀNH PHỐ HẢI PHÒNG",
    "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
    "Hải Phòng",
    "KT. CHỦ TỊCH",
    "PHÓ CHỦ TỊCH",
    "Nguyễn Văn Tùng",
]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Shown(HTMLParser):
    """The text a reader sees or hears: text nodes and the attributes above (and data-* read out by scripts),
    leaving out scripts, styles, what was typed in a textarea and anything marked lang="vi" (the switch's own name)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marked = dict(attrs)
        if tag not in VOID and (self.hidden or tag in ("script", "style", "textarea") or marked.get("lang") == "vi"):
            self.hidden.append(tag)
            return
        self.parts += [v or "" for k, v in attrs if k in SHOWN_ATTRIBUTES or k.startswith("data-")]

    def handle_endtag(self, tag: str) -> None:
        if self.hidden and self.hidden[-1] == tag:
            self.hidden.pop()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def vietnamese_left(html: str, data: list[str]) -> list[str]:
    """Words with Vietnamese letters in what a reader sees, once the page's data (names, places, questions) is taken out."""
    shown = _Shown()
    shown.feed(html)
    text = " ".join(shown.parts)
    for value in sorted({d for d in data if d}, key=len, reverse=True):
        text = text.replace(value, " ")
    return VIETNAMESE.findall(text)


async def place_names() -> list[str]:
    communes = [r["name"] for r in await Commune.select(Commune.name)]
    return (
        [r["name"] for r in await Province.select(Province.name)] + communes + [r["name"] for r in await Unit.select(Unit.name)]
    )


async def everything_named() -> list[str]:
    """Every name and title in the database (other tests' too): what staff pages list is data, not the page's text."""
    named = [(Contest, Contest.title), (Round, Round.title), (Staff, Staff.full_name), (Topic, Topic.name), (Option, Option.text)]
    questions = [r["text"] for r in await Question.select(Question.text)]
    tags = [tag for r in await Question.select(Question.tags) for tag in r["tags"] or []]
    shortened = [do_truncate(Environment(), text, 160) for text in questions]  # as the bank's list shows them
    logged = [
        text
        for r in await AuditEntry.select(AuditEntry.target, AuditEntry.detail)
        for text in (r["target"], *(value for _, value in shown_details(r["detail"])))
    ]  # what the audit log shows of each entry
    return [
        *logged,
        *await place_names(),
        *questions,
        *shortened,
        *tags,
        *[r["v"] for table, column in named for r in await table.select(column.as_alias("v"))],
    ]


async def questions_of(attempt_id: int) -> list[str]:
    rows = await Topic.raw(
        "SELECT q.text, q.explanation, o.text AS option FROM attempt_item i JOIN question q ON q.id = i.question "
        "JOIN option o ON o.question = q.id WHERE i.attempt = {}",
        attempt_id,
    )
    return [r[k] for r in rows for k in ("text", "explanation", "option")]


# ---- the switch ----------------------------------------------------------------------------------------


async def test_pages_are_in_vietnamese_until_someone_chooses_english(client, new_round) -> None:
    case = await new_round()
    page = await client.get(f"/c/{case.slug}")
    assert '<html lang="vi">' in page.text and "Tham gia dự thi" in (await client.get(f"/c/{case.slug}/me")).text
    assert f'href="/lang/en?next=/c/{case.slug}"' in page.text  # the switch on every page, back to this page
    assert '<span lang="vi" aria-current="true">Tiếng Việt</span>' in page.text


async def test_english_chosen_once_stays_over_pages_and_later_visits(app, client, new_round) -> None:
    case = await new_round()
    switched = await client.get("/lang/en", params={"next": f"/c/{case.slug}/register"})
    assert switched.status_code == 302 and switched.headers["location"] == f"/c/{case.slug}/register"
    kept = re.search(r"lang=en;.*", switched.headers["set-cookie"]).group(0)
    assert "Max-Age=31536000" in kept and "HttpOnly" in kept  # a visit next month still finds it
    for path in (f"/c/{case.slug}", f"/c/{case.slug}/register", f"/rounds/{case.round_id}/board", "/"):
        page = await client.get(path)
        assert '<html lang="en">' in page.text, path
    assert "Register to take part" in (await client.get(f"/c/{case.slug}/register")).text

    async with client_for(app) as later:  # the same browser on another day: only its cookies
        later.cookies.update({"lang": "en"})
        assert '<html lang="en">' in (await later.get(f"/c/{case.slug}")).text

    back = await client.get("/lang/vi", headers={"referer": f"http://testserver/c/{case.slug}?x=1"})
    assert back.headers["location"] == f"/c/{case.slug}?x=1"  # no `next`: back to the page it was pressed on
    assert '<html lang="vi">' in (await client.get(f"/c/{case.slug}")).text
    assert (await client.get("/lang/en", params={"next": "//elsewhere.example"})).headers["location"] == "/"


async def test_staff_pages_follow_the_switch_through_sign_in_and_out(client) -> None:
    email = await staff("organiser")
    login = await client.get("/staff/login")
    assert '<html lang="vi">' in login.text and 'href="/lang/en?next=/staff/login"' in login.text
    await client.get("/lang/en", params={"next": "/staff/login"})
    assert "Sign-in for organisers and commune/ward officials" in (await client.get("/staff/login")).text
    await sign_in(client, email)
    home = await client.get("/staff/")
    assert '<html lang="en">' in home.text and "Question bank" in home.text and "Organiser" in home.text
    assert '<html lang="en">' in (await client.get("/staff/questions/")).text
    await client.post("/staff/logout", data={"_csrf_token": csrf_of(home.text)})
    assert '<html lang="en">' in (await client.get("/staff/login")).text
    await client.get("/lang/vi", params={"next": "/staff/login"})
    assert "Đăng nhập dành cho Ban tổ chức" in (await client.get("/staff/login")).text


async def test_two_readers_at_once_each_get_their_own_language(app, client, new_round) -> None:
    case = await new_round()
    async with client_for(app) as english:
        await english.get("/lang/en")
        pages = await asyncio.gather(*(c.get(f"/c/{case.slug}") for _ in range(10) for c in (client, english)))
    assert [p.text.count('<html lang="en">') for p in pages] == [0, 1] * 10
    assert all(("Register to take part" in p.text) == ('<html lang="en">' in p.text) for p in pages)


async def test_the_shared_live_board_is_rendered_once_per_language(client, new_round) -> None:
    case = await new_round()
    assert "Chưa có kết quả." in (await client.get(f"/rounds/{case.round_id}/board/live")).text
    await client.get("/lang/en")
    english = await client.get(f"/rounds/{case.round_id}/board/live")
    assert "No results yet." in english.text and "Chưa có" not in english.text


# ---- English pages hold no Vietnamese of their own ------------------------------------------------------


async def test_a_contestants_pages_in_english_hold_no_vietnamese_but_their_data(client, new_round, worker) -> None:
    case = await new_round()
    places = [*await place_names(), "Nguyễn V. A."]  # the consent notice's example of a name as public pages show it
    await client.get("/lang/en")
    form = await client.get(f"/c/{case.slug}/register")
    assert vietnamese_left(form.text, places) == []
    refused = await register_by_form(client, case.slug, phone="12345")
    assert refused.status_code == 422 and vietnamese_left(refused.text, places) == []
    person = "Phạm Thị Hoa"
    home = await register_by_form(client, case.slug, full_name=person, phone="0903 444 555")
    data = [person, "Tuần 1", *places]
    assert "Hello" in home.text and vietnamese_left(home.text, data) == []

    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(home.text)}, follow_redirects=True)
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    questions = await questions_of(attempt_id)
    assert "Question 1/4" in started.text and vietnamese_left(started.text, questions) == []
    await answer(attempt_id, await _contestant_of(attempt_id), 3)
    submitted = await client.post(f"/attempts/{attempt_id}/submit", data={"_csrf_token": csrf_of(started.text)})
    assert submitted.status_code in (302, 303)
    worker()
    result = await client.get(f"/attempts/{attempt_id}/result")
    assert "Overall rank" in result.text and vietnamese_left(result.text, data + questions) == []

    board = await client.get(f"/rounds/{case.round_id}/board")
    assert "Leaderboard" in board.text and vietnamese_left(board.text, [*data, "Phạm T. H."]) == []
    found = await client.get(f"/rounds/{case.round_id}/board/me", params={"phone": "0903444555", "birth_year": "1970"})
    assert "Overall rank" in found.text and vietnamese_left(found.text, [*data, "Phạm T. H."]) == []
    collective = await client.get(f"/rounds/{case.round_id}/communes")
    assert vietnamese_left(collective.text, data) == []


async def _contestant_of(attempt_id: int) -> int:
    rows = await Topic.raw("SELECT contestant FROM attempt WHERE id = {}", attempt_id)
    return int(rows[0]["contestant"])


async def test_staff_pages_in_english_hold_no_vietnamese_but_their_data(client, new_round) -> None:
    case = await new_round()
    email = await staff("admin")
    await client.get("/lang/en")
    await sign_in(client, email)
    data = await everything_named()
    for path in (
        "/staff/",
        "/staff/people/",
        "/staff/audit/",
        "/staff/contests",
        f"/staff/contests/{case.contest_id}",
        f"/staff/contests/rounds/{case.round_id}",
        "/staff/questions/",
        "/staff/questions/new",
        "/staff/questions/transfer/",
        "/staff/results/",
        "/staff/officials/",
        "/staff/certificates/",
        f"/staff/certificates/contest/{case.contest_id}",
        "/staff/duplicates/",
        "/staff/privacy-requests/",
        "/staff/communes",
        f"/staff/contests/{case.contest_id}/units/",
    ):
        page = await client.get(path)
        assert page.status_code == 200 and '<html lang="en">' in page.text, path
        # The certificate is a Vietnamese document: the examples of its wording stay Vietnamese.
        assert vietnamese_left(page.text, [*data, *CERTIFICATE_EXAMPLES, *SAMPLE_NAMES]) == [], path


# ---- the catalog --------------------------------------------------------------------------------------


def test_every_message_of_the_templates_has_an_english_translation() -> None:
    method_map = [
        ("contest/formatting.py", "python"),
        ("contest/commands/*.py", "python"),
        ("contest/results/service.py", "python"),
        ("contest/officials/service.py", "python"),
        ("contest/certificates/layout.py", "python"),
        ("contest/leaderboard/population.py", "python"),
        ("contest/people/units_import.py", "python"),
        ("templates/**.html", "jinja2"),
    ]
    options = {"templates/**.html": {"trimmed": "true"}}
    extracted = {
        (context, msgid if isinstance(msgid, str) else msgid[0])
        for _, _, msgid, _, context in extract_from_dir(str(ROOT), method_map, options_map=options)
    }
    with (LOCALES / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="en")
    translated = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and "fuzzy" not in m.flags and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    assert len(extracted) > 500
    missing = sorted(str(k) for k in extracted - translated)
    assert missing == [], f"{len(missing)} messages without an English translation (run `make i18n`): {missing[:20]}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert problems == []  # every placeholder of a message is in its translation too


async def test_exports_have_column_headers_in_the_readers_language() -> None:
    def header(data: bytes) -> list[str]:
        return [str(c.value) for c in openpyxl.load_workbook(io.BytesIO(data)).worksheets[0][1]]

    assert header(to_xlsx("", [], "vi"))[:2] == ["Hạng", "Họ và tên"]
    for english in (header(to_xlsx("", [], "en")), header(contestants_xlsx([], {}, "en"))):
        assert "Full name" in english and not VIETNAMESE.findall(" ".join(english))
    population = header(await population_template("en"))
    assert population == ["Commune/ward code", "Commune/ward name", "Population"]


def test_the_command_line_speaks_vietnamese_or_english_on_request() -> None:
    def purge(*lang: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "contest.cli", *lang, "privacy", "purge", "--dry-run"],
            cwd=ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    assert "sẽ ẩn danh (chạy thử)" in purge()
    english = purge("--lang", "en")
    assert "would anonymise (dry run)" in english and not VIETNAMESE.findall(english)


def test_scripts_show_only_text_the_page_gives_them_in_the_readers_language() -> None:
    scripts = [p for p in (ROOT / "static").glob("*.js") if not p.name.endswith(".min.js")]
    assert scripts
    for script in scripts:
        code = [line for line in script.read_text(encoding="utf-8").splitlines() if not line.strip().startswith("//")]
        assert VIETNAMESE.findall("\n".join(code)) == [], script.name


# ---- numbers and dates --------------------------------------------------------------------------------


def test_numbers_and_dates_are_written_the_way_each_language_writes_them() -> None:
    moment = datetime(2026, 11, 22, 7, 5, tzinfo=UTC)  # 14:05 in Vietnam
    assert (number(1234), number(1234567, "en")) == ("1.234", "1,234,567")
    assert (decimal(3.14159), decimal(1234.5, 1, "en")) == ("3,14", "1,234.5")
    assert (local(moment), local(moment, "en")) == ("22/11/2026 14:05", "22 Nov 2026, 14:05")
    assert (day(date(2026, 11, 2)), day(date(2026, 11, 2), "en", short=True)) == ("02/11/2026", "2 Nov")
    assert (duration(83450), duration(5300, "en")) == ("1 phút 23,4 giây", "5.3 s")
    assert (time_left(90000), time_left(90000, "en"), time_left(7500, "en")) == (
        "1 ngày 1 giờ",
        "1 day 1 hour",
        "2 hours 5 minutes",
    )


async def test_pages_show_times_in_the_readers_format(client, new_round) -> None:
    case = await new_round()
    vietnamese = await client.get(f"/c/{case.slug}")
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2} – \d{2}/\d{2}/\d{4} \d{2}:\d{2}", vietnamese.text)
    await client.get("/lang/en")
    english = await client.get(f"/c/{case.slug}")
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} – \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}", english.text)
    assert "7 days 0 hours left" in english.text and "còn 7 ngày 0 giờ" in vietnamese.text
