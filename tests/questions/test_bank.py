"""The question bank as organisers use it: search, filters, forms with clear messages, versions, images, guards."""

from __future__ import annotations

import io
import json
import os
import uuid

from PIL import Image

from contest.attempts import answering, finishing, starting
from contest.attempts import service as attempts
from contest.attempts.tables import Attempt, AttemptItem
from contest.contests.tables import Contest
from contest.questions import service
from contest.questions.service import QuestionDraft
from contest.questions.tables import Option, Question
from contest.scoring.queue import kick
from contest.staff.tables import AuditEntry
from contest.uploads import media_dir
from tests.staff.test_signin import csrf_of, sign_in, staff


async def _topic() -> tuple[int, str]:
    """A topic of the test's own, so its questions are the only ones a round on it can draw."""
    slug = f"bank_{uuid.uuid4().hex[:10]}"
    ids = await service.ensure_topics({slug: f"Chủ đề thử {slug}"})
    return ids[slug], slug


async def _question(topic: int, text: str, **kw) -> int:  # type: ignore[no-untyped-def]
    draft = QuestionDraft(
        topic=topic,
        text=text,
        options=kw.pop("options", ["Đúng", "Sai", "Không biết"]),
        correct=kw.pop("correct", [0]),
        **kw,
    )
    return await service.create_question(draft, None)


async def _organiser(client) -> str:  # type: ignore[no-untyped-def]
    await sign_in(client, await staff("organiser"))
    form = await client.get("/staff/questions/new")
    assert form.status_code == 200
    return csrf_of(form.text)


def _form(csrf: str, topic: int | str, text: str, options: list[str], correct: list[int], **extra) -> dict:  # type: ignore[no-untyped-def]
    return {
        "_csrf_token": csrf,
        "topic": str(topic),
        "text": text,
        "option": options,
        "correct": [str(c) for c in correct],
        "difficulty": "2",
        "tags": "",
        "explanation": "",
        "active": "1",
        **extra,
    }


def _png(width: int, height: int, noise: bool = False) -> bytes:
    img = (
        Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
        if noise
        else Image.new("RGB", (width, height), (200, 30, 40))
    )
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


async def test_search_finds_vietnamese_text_typed_without_accents(client) -> None:
    topic, _ = await _topic()
    mark = uuid.uuid4().hex[:8]
    qid = await _question(topic, f"{mark} Công dân số cần làm gì để bảo vệ tài khoản?")
    other = await _question(topic, f"{mark} Dịch vụ công trực tuyến là gì?")
    await _organiser(client)
    page = await client.get("/staff/questions/", params={"q": f"{mark} cong dan so"})
    assert page.status_code == 200 and f"#{qid} " in page.text and f"#{other} " not in page.text
    typed = await client.get(
        "/staff/questions/", params={"q": f"{mark} CÔNG DÂN SỐ cần"}, headers={"hx-request": "true", "hx-target": "results"}
    )
    assert f"#{qid} " in typed.text and "<html" not in typed.text  # search-as-you-type swaps just the list


async def test_filters_narrow_by_topic_difficulty_tag_and_status(client) -> None:
    topic, _ = await _topic()
    mark = uuid.uuid4().hex[:8]
    easy = await _question(topic, f"Câu dễ {mark}", difficulty=1, tags=["an toàn"])
    hard = await _question(topic, f"Câu khó {mark}", difficulty=3, tags=["AI"])
    retired = await _question(topic, f"Câu cũ {mark}", difficulty=3)
    await service.set_active(retired, False, None)
    found = await service.search_questions(mark, topic=topic)
    assert [r["id"] for r in found.rows] == [retired, hard, easy]
    assert [r["id"] for r in (await service.search_questions(mark, difficulty=3, active=True)).rows] == [hard]
    assert [r["id"] for r in (await service.search_questions(mark, tag="an toàn")).rows] == [easy]
    assert [r["id"] for r in (await service.search_questions(mark, active=False)).rows] == [retired]
    await _organiser(client)
    page = await client.get("/staff/questions/", params={"q": mark, "topic": str(topic), "active": "0"})
    assert f"#{retired} " in page.text and f"#{hard} " not in page.text and "ngừng dùng" in page.text


async def test_pages_hold_fifty_questions_each(client) -> None:
    topic, _ = await _topic()
    mark = uuid.uuid4().hex[:8]
    for n in range(service.PAGE_SIZE + 3):
        await _question(topic, f"Câu số {n} {mark}")
    first = await service.search_questions(mark)
    second = await service.search_questions(mark, page=2)
    assert (len(first.rows), len(second.rows), first.total, first.pages) == (50, 3, 53, 2)
    await _organiser(client)
    page = await client.get("/staff/questions/", params={"q": mark, "page": "2"})
    assert "trang 2/2" in page.text and "Trang trước" in page.text


async def test_a_bad_question_gets_vietnamese_messages_and_nothing_is_stored(client) -> None:
    csrf = await _organiser(client)
    before = (await Question.count(), await Option.count())
    bad = await client.post("/staff/questions/", data=_form(csrf, "", "  ", ["Chỉ một phương án"], [], difficulty="7"))
    assert bad.status_code == 422
    for text in (
        "Vui lòng chọn chủ đề",
        "Vui lòng nhập nội dung câu hỏi",
        "từ 2 đến 6 phương án",
        "ít nhất một phương án đúng",
        "Độ khó phải là 1",
    ):
        assert text in bad.text
    assert 'value="Chỉ một phương án"' in bad.text  # what was typed stays in the form
    topic, _ = await _topic()
    same = await client.post("/staff/questions/", data=_form(csrf, topic, "Câu hỏi hợp lệ?", ["Có", "Đúng", " CÓ "], [0]))
    assert same.status_code == 422 and "Hai phương án trùng nhau: “Có” và “CÓ”." in same.text
    assert (await Question.count(), await Option.count()) == before
    checks = await client.post("/staff/questions/validate", data=_form(csrf, topic, "Câu hỏi?", ["Có", ""], []))
    assert 'id="err-correct" role="status" hx-swap-oob="true">Hãy đánh dấu ít nhất một phương án đúng.' in checks.text
    assert "2 đến 6 phương án" in checks.text
    fine = await client.post(
        "/staff/questions/validate", data=_form(csrf, topic, f"Câu mới {uuid.uuid4()}?", ["Có", "Không"], [1])
    )
    assert "Nội dung hợp lệ" in fine.text


async def test_the_same_text_again_is_refused_naming_the_existing_question(client) -> None:
    csrf = await _organiser(client)
    topic, _ = await _topic()
    mark = uuid.uuid4().hex[:8]
    made = await client.post(
        "/staff/questions/",
        data=_form(csrf, topic, f"Công dân số là gì? {mark}", ["Người dùng", "Máy tính"], [0], tags="AI, an toàn"),
    )
    assert made.status_code == 303
    qid = int(made.headers["location"].rsplit("/", 1)[1])
    row = await Question.select().where(Question.id == qid).first()
    assert row["normalized"] == f"cong dan so la gi {mark}" and row["tags"] == ["AI", "an toàn"]
    again = await client.post(
        "/staff/questions/", data=_form(csrf, topic, f"  CÔNG DÂN  SỐ LÀ GÌ? {mark.upper()} ", ["X", "Y"], [1])
    )
    assert again.status_code == 422 and f"(câu hỏi #{qid})" in again.text
    assert await service.duplicates_among([f"CÔNG DÂN SỐ LÀ GÌ? {mark}", "không có"]) == {f"công dân số là gì? {mark}": qid}
    # Without its tone marks or its question mark it is another text, found by the accent-insensitive search all the same.
    other = await client.post("/staff/questions/", data=_form(csrf, topic, f"Cong dan so la gi {mark}", ["X", "Y"], [1]))
    assert other.status_code == 303
    found = await service.search_questions(f"cong dan so la gi {mark}")
    assert {r["id"] for r in found.rows} == {qid, int(other.headers["location"].rsplit("/", 1)[1])}
    entry = await AuditEntry.select().where(AuditEntry.target == f"question:{qid}").first()
    assert entry["action"] == "question.create" and entry["staff"] is not None


async def test_options_that_differ_only_in_tone_marks_or_punctuation_are_different_options(client) -> None:
    csrf = await _organiser(client)
    topic, _ = await _topic()
    made = await client.post(
        "/staff/questions/", data=_form(csrf, topic, f"Từ nào có dấu sắc? {uuid.uuid4().hex[:8]}", ["ma", "má", "mà", "mã"], [1])
    )
    assert made.status_code == 303
    emails = _form(
        csrf, topic, f"Địa chỉ thư nào đúng? {uuid.uuid4().hex[:8]}", ["nguyenvanan@gmail.com", "nguyenvanan.gmail.com"], [0]
    )
    assert (await client.post("/staff/questions/", data=emails)).status_code == 303


async def test_editing_a_question_already_drawn_leaves_that_attempt_scored_on_the_old_key(client, new_round, worker) -> None:
    topic, slug = await _topic()
    qid = await _question(
        topic, f"Mật khẩu mạnh gồm những gì? {uuid.uuid4().hex[:8]}", options=["Chữ và số", "Ngày sinh"], correct=[0]
    )
    case = await new_round()
    await Contest.update({Contest.quotas: json.dumps({slug: 1})}).where(Contest.id == case.contest_id)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    item = await AttemptItem.select().where(AttemptItem.attempt == attempt_id).first()
    assert item["question"] == qid
    old_right = (await Option.select(Option.id).where((Option.question == qid) & (Option.is_correct.eq(True))).first())["id"]
    await answering.save_answer(attempt_id, me, 1, old_right)

    csrf = await _organiser(client)
    form = await client.get(f"/staff/questions/{qid}/edit")
    assert "Chữ và số" in form.text
    edited = await client.post(
        f"/staff/questions/{qid}/edit", data=_form(csrf, topic, "Mật khẩu mạnh gồm những gì?", ["Chữ và số", "Ngày sinh"], [1])
    )
    assert edited.status_code == 303
    new_id = int(edited.headers["location"].rsplit("/", 1)[1])
    assert new_id != qid
    old = await Question.select().where(Question.id == qid).first()
    assert (old["active"], old["replaced_by"]) == (False, new_id)
    assert [o["is_correct"] for o in await Option.select().where(Option.question == qid).order_by(Option.position)] == [
        True,
        False,
    ]

    await finishing.submit(attempt_id, me)
    await kick()
    worker()
    scored = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert (scored["status"], scored["correct"]) == ("scored", 1)
    view = await attempts.attempt_view(attempt_id, me)
    assert view.items[0].text == old["text"]  # the wording it was given

    starting._bank_cache.clear()  # draws cache the bank for 30 s; skip the wait
    other = await case.contestant(2)
    fresh = await starting.start_attempt(other, case.round_id)
    assert (await AttemptItem.select().where(AttemptItem.attempt == fresh).first())["question"] == new_id
    detail = await client.get(f"/staff/questions/{qid}")
    assert f"/staff/questions/{new_id}" in detail.text and "phiên bản mới" in detail.text
    assert "Phiên bản trước" in (await client.get(f"/staff/questions/{new_id}")).text
    refused = await client.post(f"/staff/questions/{qid}/edit", data=_form(csrf, topic, "Sửa bản cũ?", ["A", "B"], [0]))
    assert refused.status_code == 422 and f"#{new_id}" in refused.text


async def test_a_question_never_drawn_is_edited_in_place(client) -> None:
    topic, _ = await _topic()
    qid = await _question(topic, f"Câu nháp {uuid.uuid4().hex[:8]}", options=["A", "B", "C"])
    ids = [o["id"] for o in await Option.select().where(Option.question == qid).order_by(Option.position)]
    csrf = await _organiser(client)
    text = f"Câu đã sửa {uuid.uuid4().hex[:8]}"
    done = await client.post(f"/staff/questions/{qid}/edit", data=_form(csrf, topic, text, ["A2", "", "B2"], [2]))
    assert done.status_code == 303 and done.headers["location"] == f"/staff/questions/{qid}"
    options = await Option.select().where(Option.question == qid).order_by(Option.position)
    assert [(o["id"], o["text"], o["is_correct"]) for o in options] == [(ids[0], "A2", False), (ids[1], "B2", True)]
    assert (await Question.select(Question.text).where(Question.id == qid).first())["text"] == text


async def test_copy_and_retire(client) -> None:
    topic, _ = await _topic()
    text = f"Câu gốc {uuid.uuid4().hex[:8]}"
    qid = await _question(topic, text, correct=[1])
    csrf = await _organiser(client)
    copied = await client.post(f"/staff/questions/{qid}/copy", data={"_csrf_token": csrf})
    assert copied.status_code == 303
    copy_id = int(copied.headers["location"].split("/")[-2])
    row = await Question.select().where(Question.id == copy_id).first()
    assert row["text"] == f"{text} (bản sao)" and row["active"] is False
    assert [o["is_correct"] for o in await Option.select().where(Option.question == copy_id).order_by(Option.position)] == [
        False,
        True,
        False,
    ]
    retired = await client.post(f"/staff/questions/{qid}/retire", data={"_csrf_token": csrf})
    assert retired.status_code == 303
    assert (await Question.select(Question.active).where(Question.id == qid).first())["active"] is False
    actions = {
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action).where(
            AuditEntry.target.is_in([f"question:{qid}", f"question:{copy_id}"])
        )
    }
    assert {"question.create", "question.copy", "question.retire"} <= actions


async def test_an_uploaded_image_is_checked_and_downscaled(client) -> None:
    csrf = await _organiser(client)
    topic, _ = await _topic()
    photo = _png(2400, 1200)
    made = await client.post(
        "/staff/questions/",
        data=_form(csrf, topic, f"Biểu tượng này là gì? {uuid.uuid4().hex[:8]}", ["Khóa", "Mở"], [0]),
        files={"image": ("logo.png", photo, "image/png")},
    )
    assert made.status_code == 303, made.text
    qid = int(made.headers["location"].rsplit("/", 1)[1])
    name = (await Question.select(Question.image).where(Question.id == qid).first())["image"]
    with Image.open(media_dir() / name) as stored:
        assert stored.format == "WEBP" and stored.size == (1200, 600)
    before = await Question.count()
    fake = await client.post(
        "/staff/questions/",
        data=_form(csrf, topic, f"Câu có ảnh giả {uuid.uuid4().hex[:8]}", ["A", "B"], [0]),
        files={"image": ("anh.png", "đây không phải ảnh".encode(), "image/png")},
    )
    assert fake.status_code == 422 and "không phải là ảnh hợp lệ" in fake.text
    huge = await client.post(
        "/staff/questions/",
        data=_form(csrf, topic, f"Câu có ảnh lớn {uuid.uuid4().hex[:8]}", ["A", "B"], [0]),
        files={"image": ("big.png", _png(8000, 6000), "image/png")},
    )
    assert huge.status_code == 422 and "Ảnh quá lớn" in huge.text
    heavy = await client.post(
        "/staff/questions/",
        data=_form(csrf, topic, f"Câu có ảnh nặng {uuid.uuid4().hex[:8]}", ["A", "B"], [0]),
        files={"image": ("noise.png", _png(1400, 1400, noise=True), "image/png")},
    )
    assert heavy.status_code == 422 and "tối đa 5 MB" in heavy.text
    assert await Question.count() == before


async def test_only_organisers_and_admins_reach_the_bank(client) -> None:
    anonymous = await client.get("/staff/questions/")
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/staff/login?next=")
    await sign_in(client, await staff("official", [11560]))
    assert (await client.get("/staff/questions/")).status_code == 403
    assert (await client.get("/staff/questions/new")).status_code == 403
    client.cookies.clear()
    await sign_in(client, await staff("admin"))
    assert (await client.get("/staff/questions/")).status_code == 200
