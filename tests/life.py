"""Steps of a contest's whole life as its people take them over HTTP (tests/test_whole_life.py): the organiser imports
a bank from xlsx and builds a contest on it, contestants register and take the round in their own browsers."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from contest.contests.tables import Contest
from contest.people.tables import Contestant
from tests.conftest import client_for
from tests.contests.test_builder import add_round, change_state, contest_form, token
from tests.factories import answer_key
from tests.questions.test_transfer import new_topic, row, unique, upload, xlsx
from tests.test_journey import csrf_of, register_by_form

BANK_SIZE, DRAWN = 6, 4


async def import_bank(client: Any) -> str:
    """The organiser's own workbook through the transfer pages: a dry run that writes nothing, then the confirmation.
    Returns the topic the bank fills."""
    topic, _ = await new_topic()
    rows = [row(topic, unique(f"Câu {i}: dịch vụ công trực tuyến"), "Đúng", "Sai", "Không rõ") for i in range(BANK_SIZE)]
    checked = await upload(client, xlsx(rows), "ngan-hang.xlsx")
    assert checked.status_code == 200 and f"Xác nhận: thêm {BANK_SIZE}, sửa 0 câu hỏi" in checked.text
    stash = checked.text.split('name="token" value="')[1].split('"')[0]
    done = await client.post("/staff/questions/transfer/confirm", data={"_csrf_token": csrf_of(checked.text), "token": stash})
    assert done.status_code == 200 and f"Đã nhập {BANK_SIZE} câu hỏi" in done.text
    return topic


@dataclass
class Built:
    contest_id: int
    round_id: int
    slug: str


async def build_contest(client: Any, topic: str, opens: datetime) -> Built:
    """A contest for two communes of Hải Phòng drawing every question from the imported topic; one published round
    with a prediction question, pass mark 2 and two prizes; the contest published."""
    title = f"Công dân số hai xã {uuid.uuid4().hex[:6]}"
    made = await client.post("/staff/contests/new", data=contest_form(await token(client), title, **{topic: DRAWN}))
    assert made.status_code == 302, made.text
    contest_id = int(made.headers["location"].rsplit("/", 1)[1])
    form = contest_form(await token(client, f"/staff/contests/{contest_id}"), title, **{topic: DRAWN})
    form |= {"provinces": ["31"], "communes": ["11560", "11557"]}  # the communes narrow the province
    assert (await client.post(f"/staff/contests/{contest_id}", data=form)).status_code == 302
    prizes = {"prize_name": ["Giải Nhất", "Giải Nhì", ""], "prize_count": ["1", "1", ""]}
    made = await add_round(client, contest_id, "Tuần 1", opens, opens + timedelta(hours=2), pass_mark="2", **prizes)
    assert made.status_code == 302, made.text
    round_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert (await change_state(client, round_id, "publish")).status_code == 302
    csrf = await token(client, f"/staff/contests/{contest_id}")
    await client.post(f"/staff/contests/{contest_id}/publish", data={"_csrf_token": csrf, "published": "yes"})
    slug = (await Contest.select(Contest.slug).where(Contest.id == contest_id).first())["slug"]
    return Built(contest_id, round_id, slug)


@dataclass
class Person:
    name: str
    phone: str
    commune: str
    id: int = 0
    attempt: int = 0
    cookies: Any = None
    csrf: str = ""
    key: dict = field(default_factory=dict)


async def start(app: Any, built: Built, person: Person) -> None:
    """Register on the contest's form and start the round, in the person's own browser."""
    async with client_for(app) as browser:
        done = await register_by_form(browser, built.slug, full_name=person.name, phone=person.phone, commune=person.commune)
        assert "Bắt đầu thi" in done.text, done.text
        started = await browser.post(f"/rounds/{built.round_id}/start", data={"_csrf_token": csrf_of(done.text)})
        person.attempt = int(started.headers["location"].rsplit("/", 1)[1])
        page = await browser.get(f"/attempts/{person.attempt}")
        person.csrf, person.cookies = csrf_of(page.text), browser.cookies
    row = await Contestant.select(Contestant.id).where(
        (Contestant.phone == person.phone) & (Contestant.contest == built.contest_id)
    )
    person.id = row[0]["id"]
    person.key = await answer_key(person.attempt)


async def answer(app: Any, person: Person, correct: int, answered: int = DRAWN) -> None:
    """Answer the first `correct` questions right and the next ones wrong up to `answered`, one click each as on the
    page."""
    async with client_for(app) as browser:
        browser.cookies = person.cookies
        headers = {"x-csrftoken": person.csrf, "hx-request": "true"}
        for position, (right, wrong) in sorted(person.key.items()):
            if position > answered:
                break
            chosen = right if position <= correct else wrong[0]
            saved = await browser.post(f"/attempts/{person.attempt}/answers/{position}", data={"option": chosen}, headers=headers)
            assert saved.status_code == 200, saved.text


async def submit(app: Any, person: Person, prediction: int) -> None:
    """Submit with the prediction of how many will take part, as the page's form does."""
    async with client_for(app) as browser:
        browser.cookies = person.cookies
        data = {"_csrf_token": person.csrf, "prediction": str(prediction)}
        done = await browser.post(f"/attempts/{person.attempt}/submit", data=data, follow_redirects=True)
        assert done.status_code == 200 and "Đang chấm điểm" in done.text


async def as_person(app: Any, person: Person, path: str, **kw: Any) -> Any:
    """A page or API answer as the person's own browser sees it."""
    async with client_for(app) as browser:
        browser.cookies = person.cookies
        return await browser.get(path, **kw)


def order_in(text: str, names: list[str]) -> list[str]:
    """Which of the names a page shows, in the order it shows them."""
    return [name for _, name in sorted((text.find(n), n) for n in names if n in text)]


def after(text: str, marker: str) -> str:
    """The page from a marker on (a table after its heading)."""
    found = re.search(re.escape(marker), text)
    assert found, marker
    return text[found.end() :]
