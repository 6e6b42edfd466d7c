"""What a partial-credit contest says around the score: the attempt page says how a question of several correct
options is scored, the review after the close shows each such question's points and which ticks were right or wrong,
exports head the column "Điểm" (it can hold 7,5), and the personal-data export holds the ticked sets."""

from __future__ import annotations

import io
import json
import re

from openpyxl import load_workbook

from contest import db
from contest.attempts import service as attempts
from contest.attempts import starting
from contest.officials import service as officials
from contest.people.privacy import export_person
from contest.results import service as results
from tests.attempts.test_partial_credit import TICKS, _everyone_takes, _organiser, _round
from tests.conftest import client_for
from tests.factories import HAI_PHONG_COMMUNES
from tests.staff.test_signin import csrf_of

PARTIAL_HINT = "Chọn tất cả phương án đúng; chọn đúng được điểm từng phần, chọn sai bị trừ."


def _phone(case, n: int) -> str:  # type: ignore[no-untyped-def]
    return f"0912{case.round_id % 1000:03d}{n:03d}"  # as case.contestant registers them


async def signed_in(app, case, n: int):  # type: ignore[no-untyped-def]
    """A browser of its own, identified as the case's contestant n."""
    browser = client_for(app)
    form = await browser.get(f"/c/{case.slug}/register")
    fields = {"_csrf_token": csrf_of(form.text), "phone": _phone(case, n), "birth_year": "1990"}
    await browser.post(f"/c/{case.slug}/identify", data=fields)
    return browser


def _li(html: str, option: str) -> str:
    """The review's line of one option."""
    found = re.search(rf"<li [^>]*>{re.escape(option)}.*?</li>", html)
    assert found, option
    return found.group(0)


async def test_the_attempt_page_says_how_a_question_of_several_answers_is_scored(app, new_round) -> None:
    for partial in (True, False):
        case, _ = await _round(new_round, partial=partial)
        attempt_id = await starting.start_attempt(await case.contestant(1), case.round_id)
        browser = await signed_in(app, case, 1)
        page = (await browser.get(f"/attempts/{attempt_id}")).text
        assert page.count(PARTIAL_HINT) == (2 if partial else 0), partial
        assert page.count("Chọn tất cả phương án đúng.") == (0 if partial else 2), partial
        if partial:
            browser.cookies.set("lang", "en")
            english = (await browser.get(f"/attempts/{attempt_id}")).text
            assert english.count("each right one earns part of the points, each wrong one takes some away") == 2


async def test_the_review_shows_a_questions_partial_points_and_which_ticks_were_right_or_wrong(
    app, new_round, clock, worker
) -> None:
    case, ids = await _round(new_round, partial=True)
    people = await _everyone_takes(case, ids, clock, worker)
    clock.advance(hours=2)  # the round has closed: the key is shown
    lan, minh, hoa = [await signed_in(app, case, n) for n in (1, 2, 3)]
    pages = {}
    for who, browser in (("Lan", lan), ("Minh", minh), ("Hoa", hoa)):
        pages[who] = (await browser.get(f"/attempts/{people[who][1]}/result")).text
    # Lan: "two" right in full, "three" 2/3 − 1/2 = 1/6 (0,17), "one" right.
    assert pages["Lan"].count("· trả lời đúng") == 2 and "· được 0,17 điểm" in pages["Lan"]
    assert "(bạn chọn: sai, bị trừ điểm)" in _li(pages["Lan"], "Tắt tường lửa")
    assert "(bạn chọn: đúng, được điểm)" in _li(pages["Lan"], "Sao lưu")
    assert "bạn chọn" not in _li(pages["Lan"], "Khóa màn hình")
    assert pages["Lan"].count(f"({PARTIAL_HINT})") == 2
    # Minh: one of two right (0,5), "three" right in full, "one" wrong: a one-answer question stays right or wrong.
    assert "· được 0,5 điểm" in pages["Minh"] and "· chưa đúng" in pages["Minh"]
    assert "(bạn chọn: đúng, được điểm)" in _li(pages["Minh"], "Bật 2FA")
    # Hoa: one right and one wrong of "two" cancel out; "three" left blank.
    assert pages["Hoa"].count("· được 0 điểm") == 2
    assert "(bạn chọn: sai, bị trừ điểm)" in _li(pages["Hoa"], "Chia sẻ mật khẩu")
    minh.cookies.set("lang", "en")
    assert "0.5 points earned" in (await minh.get(f"/attempts/{people['Minh'][1]}/result")).text
    # The review counts each question in Python (scorecode.question_points), the worker in SQL: they must agree.
    for who, (me, attempt_id) in people.items():
        shown = await attempts.review(attempt_id, me)
        stored = (await db.fetch("SELECT points FROM attempt WHERE id = $1", attempt_id))[0]["points"]
        assert shown is not None and sum(item.points for item in shown) == stored, who


async def test_exports_head_the_score_column_points_and_the_personal_data_holds_ticked_sets(new_round, clock, worker) -> None:
    case, ids = await _round(new_round, partial=True)
    people = await _everyone_takes(case, ids, clock, worker)
    clock.advance(hours=2)
    organiser = await _organiser()
    await results.compute_results(organiser, case.round_id)
    for lang, heading in (("vi", "Điểm"), ("en", "Score")):
        _, data = await results.export_xlsx(organiser, case.round_id, lang)
        rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
        assert rows[0][6] == heading and rows[2][6] == 1.5, lang
    rows_of_commune = await officials.contestants(case.contest_id, HAI_PHONG_COMMUNES[0], size=None)
    sheet = load_workbook(io.BytesIO(officials.contestants_xlsx(rows_of_commune, {}))).active
    header, *values = list(sheet.iter_rows(values_only=True))
    assert header[6] == "Điểm cao nhất" and 1.5 in [v[6] for v in values]

    # The personal-data export holds what Lan ticked on each question of several correct options.
    _, document = await export_person(organiser, _phone(case, 1))
    (attempt,) = json.loads(document)["attempts"]
    assert attempt["id"] == people["Lan"][1]
    ticked = {}
    for answer in attempt["answers"]:
        key, options = ids[answer["question"]]
        names = {v: k for k, v in options.items()}
        ticked[key] = sorted(names[o] for o in answer["chosen_set"] or ([answer["chosen"]] if answer["chosen"] else []))
    assert ticked == {key: sorted(texts) for key, texts in TICKS["Lan"].items()}
