"""The contestant's journey in the browser pages (HTML + htmx), end to end with a real worker."""

import re

from contest.attempts.tables import Attempt
from tests.factories import answer_key


def csrf_of(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


async def register_by_form(client, slug: str, **fields: str):  # type: ignore[no-untyped-def]
    """Fill the registration form as a person would (defaults for what the test does not care about)."""
    page = await client.get(f"/c/{slug}/register")
    form = {
        "full_name": "Ngô Thị Mai",
        "phone": "0905 222 333",
        "birth_year": "1970",
        "province": "31",
        "commune": "11560",
        "group": "citizens",
        "consent": "yes",
        **fields,
    }
    done = await client.post(f"/c/{slug}/register", data={"_csrf_token": csrf_of(page.text), **form}, follow_redirects=True)
    if done.status_code == 200 and done.url.path == f"/c/{slug}":  # registered: the contest page, shared by everyone,
        return await client.get(f"/c/{slug}/me")  # loads this person's own part (their name, the start form)
    return done


async def test_register_take_a_round_and_see_score_time_and_ranks(client, new_round, worker) -> None:
    case = await new_round()
    page = await client.get(f"/c/{case.slug}/register")
    assert page.status_code == 200 and "Phường Thuỷ Nguyên" in page.text  # one province: its communes are listed
    done = await register_by_form(
        client, case.slug, full_name="Phạm Thị Hoa", phone="+84 903 111 222", birth_year="1969", commune="11557"
    )
    assert done.status_code == 200 and "Phạm Thị Hoa" in done.text and "Bắt đầu thi" in done.text

    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True)
    assert started.status_code == 200 and "Câu 1/4" in started.text and "Dự đoán số người tham gia" in started.text
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    key = await answer_key(attempt_id)
    headers = {"x-csrftoken": csrf_of(started.text), "hx-request": "true"}
    for position in (1, 2, 3):
        saved = await client.post(
            f"/attempts/{attempt_id}/answers/{position}", data={"option": key[position][0]}, headers=headers
        )
        assert saved.status_code == 200 and "✓" in saved.text
    reload = await client.get(f"/attempts/{attempt_id}")
    assert reload.text.count("checked") == 3  # a reload shows what was saved

    result = await client.post(
        f"/attempts/{attempt_id}/submit",
        data={"_csrf_token": csrf_of(reload.text), "prediction": "1.500"},
        follow_redirects=True,
    )
    assert "Đang chấm điểm" in result.text and re.search(r'hx-trigger="load delay:\d+s"', result.text)
    worker()
    polled = await client.get(f"/attempts/{attempt_id}/result/status", headers={"hx-request": "true"})
    assert "3/4" in polled.text and "Xếp hạng chung: <strong>1</strong>/1" in polled.text
    assert "Xếp hạng trong Phường Thiên Hương: <strong>1</strong>/1" in polled.text
    assert "hx-trigger" not in polled.text  # polling stops once the result is there
    row = await Attempt.select(Attempt.prediction, Attempt.correct).where(Attempt.id == attempt_id).first()
    assert row == {"prediction": 1500, "correct": 3}
    # The time of this attempt and of the best one (read from the board, which keeps tenths) read alike.
    ms = (await Attempt.select(Attempt.duration_ms).where(Attempt.id == attempt_id).first())["duration_ms"]
    shown = re.findall(r"(\d+(?:,\d+)?) giây", polled.text)
    assert shown == [f"{ms // 1000},{ms % 1000 // 100}"] * 2, shown


async def test_bad_registration_input_gets_vietnamese_messages_and_keeps_what_was_typed(client, new_round) -> None:
    case = await new_round()
    bad = await register_by_form(client, case.slug, full_name="Hoàng Văn Em", phone="12345", consent="")
    assert bad.status_code == 422
    assert "Số điện thoại không hợp lệ" in bad.text and "đồng ý cho phép xử lý dữ liệu" in bad.text
    assert 'value="Hoàng Văn Em"' in bad.text


async def test_forms_without_the_csrf_token_are_refused(client, new_round) -> None:
    case = await new_round()
    await client.get(f"/c/{case.slug}/register")
    refused = await client.post(f"/c/{case.slug}/register", data={"full_name": "X"})
    assert refused.status_code == 403


async def test_the_answer_key_never_reaches_the_browser(client, new_round) -> None:
    case = await new_round()
    me = await case.contestant(1)
    from contest.attempts import starting

    attempt_id = await starting.start_attempt(me, case.round_id)
    key = await answer_key(attempt_id)
    from contest.api.auth import issue

    shown = await client.get(f"/api/v1/attempts/{attempt_id}", headers={"authorization": f"Bearer {issue(me)}"})
    body = shown.json()
    # "multiple" says only that several options are correct (the checkboxes), never which.
    assert set(body["questions"][0]) == {"position", "text", "options", "chosen", "image_url", "multiple", "chosen_ids"}
    assert set(body["questions"][0]["options"][0]) == {"id", "text"}
    # Each question's options come in the attempt's own order, not the key's.
    assert {o["id"] for q in body["questions"] for o in q["options"]} == {
        o for right, wrong in key.values() for o in [right, *wrong]
    }


async def test_pages_need_an_identified_contestant(client) -> None:
    page = await client.get("/attempts/1")
    assert page.status_code == 401 and "đăng ký" in page.text


async def test_registration_is_rate_limited(client, new_round) -> None:
    case = await new_round()
    page = await client.get(f"/c/{case.slug}/register")
    token = csrf_of(page.text)
    codes = [
        (
            await client.post(
                f"/c/{case.slug}/identify", data={"_csrf_token": token, "phone": "0912000000", "birth_year": "1990"}
            )
        ).status_code
        for _ in range(21)
    ]
    assert codes[:20] == [422] * 20 and codes[20] == 429


async def test_a_late_or_bad_answer_is_refused_with_a_message_the_page_shows(client, new_round, clock) -> None:
    case = await new_round(time_limit=60)
    done = await register_by_form(client, case.slug)
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True)
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    key = await answer_key(attempt_id)
    headers = {"x-csrftoken": csrf_of(started.text), "hx-request": "true"}
    bad = await client.post(f"/attempts/{attempt_id}/answers/1", data={"option": "abc"}, headers=headers)
    assert bad.status_code == 409 and "Phương án trả lời không hợp lệ" in bad.text
    clock.advance(seconds=60 + 11)
    late = await client.post(f"/attempts/{attempt_id}/answers/1", data={"option": key[1][0]}, headers=headers)
    assert late.status_code == 409 and "Lượt thi đã kết thúc" in late.text


async def test_pages_and_htmx_reach_slow_phones_gzipped_and_cached(client) -> None:
    htmx = await client.get("/static/htmx.min.js", headers={"accept-encoding": "gzip"})
    assert htmx.headers["content-encoding"] == "gzip" and "max-age=86400" in htmx.headers["cache-control"]
    home = await client.get("/", headers={"accept-encoding": "gzip"})
    assert home.headers["content-encoding"] == "gzip"


async def test_a_round_without_the_prediction_question_does_not_ask_it(client, new_round) -> None:
    from contest.contests.tables import Round

    case = await new_round()
    await Round.update({Round.ask_prediction: False}).where(Round.id == case.round_id)
    done = await register_by_form(client, case.slug)
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True)
    assert "Câu 1/4" in started.text and "Dự đoán số người" not in started.text


async def test_the_key_and_explanations_appear_only_once_the_round_has_closed(client, new_round, clock, worker) -> None:
    from datetime import timedelta

    case = await new_round(closes_in=timedelta(hours=2))
    done = await register_by_form(client, case.slug)
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True)
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    key = await answer_key(attempt_id)
    await client.post(
        f"/attempts/{attempt_id}/answers/1", data={"option": key[1][0]}, headers={"x-csrftoken": csrf_of(started.text)}
    )
    before = await client.post(
        f"/attempts/{attempt_id}/submit", data={"_csrf_token": csrf_of(started.text)}, follow_redirects=True
    )
    assert "đáp án đúng" not in before.text and "công bố khi vòng thi kết thúc" in before.text
    worker()
    clock.advance(hours=3)
    after = await client.get(f"/attempts/{attempt_id}/result")
    assert after.text.count("✔ đáp án đúng") == 4 and "Câu 1 · trả lời đúng" in after.text
