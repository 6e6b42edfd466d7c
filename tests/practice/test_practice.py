"""Practice (thi thử) and flashcards: anyone practises on what organisers released, with the key shown at once;
practice never touches contests, and a live round's questions never reach it while the round may take answers."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import timedelta

import redis.asyncio as aioredis

from contest.attempts import finishing, starting
from contest.attempts.tables import Attempt
from contest.contests.tables import Contest, Round
from contest.practice import service
from contest.questions.service import add_questions, ensure_topics
from contest.questions.tables import Option, Question
from contest.scoring.queue import kick
from contest.staff.tables import AuditEntry
from tests.conftest import client_for
from tests.factories import answer
from tests.security.test_headers import inline_code
from tests.staff.test_signin import csrf_of, sign_in, staff

OPTION = re.compile(r'<input type="radio" name="option" value="(\d+)"')
LATER = {"seconds": service.PUBLIC_AFTER.total_seconds() + 1}


async def bank(count: int, name: str = "Ôn tập an toàn số") -> tuple[str, list[int]]:
    """A topic of its own with `count` questions (A is right), each with an explanation."""
    slug = f"pr-{uuid.uuid4().hex[:8]}"
    ids = await ensure_topics({slug: name})
    items = [
        {
            "topic": slug,
            "text": f"Câu hỏi ôn tập {slug} số {i}: mật khẩu mạnh gồm những gì?",
            "options": [f"Đúng {i}", f"Sai {i}a", f"Sai {i}b", f"Sai {i}c"],
            "correct": 0,
            "explanation": f"Giải thích {slug} số {i}: dùng chữ hoa, chữ thường, số và ký tự đặc biệt.",
        }
        for i in range(1, count + 1)
    ]
    await add_questions(items, ids)
    rows = await Question.select(Question.id).where(Question.topic == ids[slug]).order_by(Question.id)
    return slug, [r["id"] for r in rows]


async def key_of(question_ids: list[int]) -> dict[int, bool]:
    rows = await Option.select(Option.id, Option.is_correct).where(Option.question.is_in(question_ids))
    return {r["id"]: r["is_correct"] for r in rows}


async def organiser(client) -> None:  # type: ignore[no-untyped-def]
    assert (await sign_in(client, await staff("organiser"))).status_code == 302


async def release(client, slug: str, ids: list[int], action: str = "release"):  # type: ignore[no-untyped-def]
    page = await client.get("/staff/practice/questions", params={"topic": slug})
    data = {"_csrf_token": csrf_of(page.text), "topic": slug, "action": action, "question": [str(i) for i in ids]}
    return await client.post("/staff/practice/questions", data=data)


async def new_set(client, title: str, contest: int | None = None, **quotas: int) -> int:  # type: ignore[no-untyped-def]
    form = await client.get("/staff/practice/new")
    data = {"_csrf_token": csrf_of(form.text), "title": title, "description": "Ôn trước khi thi.", "contest": str(contest or "")}
    data |= {f"quota.{k}": str(v) for k, v in quotas.items()}
    done = await client.post("/staff/practice/new", data=data)
    assert done.status_code == 302, done.text
    return int(done.headers["location"].rsplit("/", 1)[1])


async def publish(client, set_id: int, published: str = "yes"):  # type: ignore[no-untyped-def]
    page = await client.get(f"/staff/practice/{set_id}")
    return await client.post(
        f"/staff/practice/{set_id}/publish", data={"_csrf_token": csrf_of(page.text), "published": published}
    )


async def published_set(client, clock, count: int = 3, per_run: int = 3) -> tuple[int, str, list[int]]:  # type: ignore[no-untyped-def]
    """An organiser releases a fresh topic's questions and publishes a set on it (through the pages)."""
    await organiser(client)
    slug, ids = await bank(count)
    assert (await release(client, slug, ids)).status_code == 302
    set_id = await new_set(client, f"Bộ đề {slug}", **{slug: per_run})
    clock.advance(**LATER)
    assert (await publish(client, set_id)).status_code == 302
    return set_id, slug, ids


async def test_an_organiser_releases_questions_and_publishes_a_set_people_then_see(client, clock, app) -> None:
    await organiser(client)
    slug, ids = await bank(2)
    set_id = await new_set(client, "Bộ đề thi thử tuần 1", **{slug: 2})
    assert (await client.get(f"/practice/{set_id}")).status_code == 404  # not published yet

    # Nothing released yet: publishing is refused, saying why.
    refused = await publish(client, set_id)
    assert refused.status_code == 409 and "Chưa có câu hỏi ôn tập nào sẵn sàng" in refused.text

    assert (await release(client, slug, ids)).status_code == 302
    listed = await client.get("/staff/practice/questions", params={"topic": slug})
    assert listed.text.count("Đã chọn, sắp hiển thị") == 2
    # Released a moment ago: not shown yet (a web process may still draw from a bank cached before the release).
    assert (await publish(client, set_id)).status_code == 409
    clock.advance(**LATER)
    assert (await publish(client, set_id)).status_code == 302
    assert (await client.get("/staff/practice/questions", params={"topic": slug})).text.count("Ôn tập – đang hiển thị") == 2
    actions = {r["action"] for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("practice.%"))}
    assert {"practice.create", "practice.release", "practice.publish"} <= actions

    async with client_for(app) as anyone:
        listing = await anyone.get("/practice")
        assert listing.status_code == 200 and "Bộ đề thi thử tuần 1" in listing.text
        shown = await anyone.get(f"/practice/{set_id}")
        assert shown.status_code == 200 and "Bắt đầu thi thử" in shown.text and "Ôn tập an toàn số" in shown.text
        assert inline_code(shown.text) == []


async def test_anyone_practises_with_the_answer_and_explanation_after_each_question_and_a_score(client, clock, app) -> None:
    set_id, slug, ids = await published_set(client, clock, count=3, per_run=3)
    key = await key_of(ids)
    async with client_for(app) as anyone:  # no registration, no staff session
        page = await anyone.get(f"/practice/{set_id}")
        started = await anyone.post(f"/practice/{set_id}/start", data={"_csrf_token": csrf_of(page.text)}, follow_redirects=True)
        assert started.status_code == 200 and "Câu 1/3" in started.text
        assert inline_code(started.text) == []
        # Before an answer the page holds no key and no explanation.
        assert "Giải thích" not in started.text and "Đáp án đúng" not in started.text
        htmx = {"hx-request": "true", "x-csrftoken": csrf_of(started.text)}

        # 1: right, by htmx: the feedback fragment replaces the question.
        options = [int(o) for o in OPTION.findall(started.text)]
        right = next(o for o in options if key[o])
        fragment = await anyone.post(f"/practice/{set_id}/answer", data={"position": "1", "option": str(right)}, headers=htmx)
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert "Chính xác!" in fragment.text and f"Giải thích {slug}" in fragment.text and 'id="practice-q"' in fragment.text
        # The same answer sent twice changes nothing.
        wrong_retry = next(o for o in options if not key[o])
        again = await anyone.post(f"/practice/{set_id}/answer", data={"position": "1", "option": str(wrong_retry)}, headers=htmx)
        assert "Chính xác!" in again.text

        # 2: wrong, without JavaScript: the form posts, the page shows the right answer and the explanation.
        second = await anyone.get(f"/practice/{set_id}/play")
        assert "Câu 2/3" in second.text
        options = [int(o) for o in OPTION.findall(second.text)]
        wrong = next(o for o in options if not key[o])
        posted = await anyone.post(
            f"/practice/{set_id}/answer",
            data={"_csrf_token": csrf_of(second.text), "position": "2", "option": str(wrong)},
        )
        assert posted.status_code == 302 and posted.headers["location"] == f"/practice/{set_id}/play?n=2"
        feedback = await anyone.get(posted.headers["location"])
        assert (
            "Chưa đúng." in feedback.text
            and "Đáp án đúng:" in feedback.text
            and re.search(r"<strong>Đúng \d</strong>", feedback.text)
        )
        assert f"Giải thích {slug}" in feedback.text

        # 3: no option chosen is refused in Vietnamese; then a right answer, and the score.
        third = await anyone.get(f"/practice/{set_id}/play")
        refused = await anyone.post(f"/practice/{set_id}/answer", data={"position": "3"}, headers=htmx)
        assert refused.status_code == 422 and "Vui lòng chọn một phương án trả lời." in refused.text
        options = [int(o) for o in OPTION.findall(third.text)]
        last = await anyone.post(
            f"/practice/{set_id}/answer", data={"position": "3", "option": str(next(o for o in options if key[o]))}, headers=htmx
        )
        assert "Xem kết quả" in last.text
        score = await anyone.get(f"/practice/{set_id}/play")
        assert "2/3 câu đúng" in score.text and "Thi thử lại với đề mới" in score.text

        # Again, with a new draw: a fresh run from question 1.
        again = await anyone.post(f"/practice/{set_id}/start", data={"_csrf_token": csrf_of(score.text)}, follow_redirects=True)
        assert "Câu 1/3" in again.text


async def test_flashcards_by_topic_flip_with_details_and_turn_with_links_or_htmx(client, clock, app) -> None:
    set_id, slug, ids = await published_set(client, clock, count=3, per_run=2)
    async with client_for(app) as anyone:
        shown = await anyone.get(f"/practice/{set_id}")
        assert f"/practice/{set_id}/cards/{slug}" in shown.text and "3 thẻ" in shown.text
        first = await anyone.get(f"/practice/{set_id}/cards/{slug}")
        assert first.status_code == 200 and "Thẻ 1/3" in first.text and inline_code(first.text) == []
        # The back sits in a <details>: a keyboard flips it with Enter or Space, without any script.
        details = re.search(r"<details\s*>(.*?)</details>", first.text, re.S)
        assert details and "<summary>Lật thẻ: xem đáp án</summary>" in details.group(1)
        assert "Đúng 1" in details.group(1) and f"Giải thích {slug} số 1" in details.group(1)
        assert f'href="/practice/{set_id}/cards/{slug}?n=2"' in first.text and "Thẻ trước" not in first.text
        # A link to the back of a card, for whoever wants it open.
        back = await anyone.get(f"/practice/{set_id}/cards/{slug}", params={"n": 2, "side": "back"})
        assert "<details open>" in back.text and "Thẻ 2/3" in back.text
        # htmx turns the card alone.
        swapped = await anyone.get(f"/practice/{set_id}/cards/{slug}", params={"n": 3}, headers={"hx-request": "true"})
        assert (
            swapped.text.lstrip().startswith('<div id="flashcard">') and "Thẻ 3/3" in swapped.text and "<html" not in swapped.text
        )
        assert "Hết thẻ" in swapped.text
        other_slug, _ = await bank(1)
        assert (await anyone.get(f"/practice/{set_id}/cards/{other_slug}")).status_code == 404  # not a topic of this set
        assert (await anyone.get(f"/practice/{set_id}/cards/no-such-topic")).status_code == 404


async def test_practice_never_touches_attempts_scores_or_boards(client, clock, app, new_round, worker) -> None:
    # A real contest with a scored attempt on its boards.
    case = await new_round()
    person = await case.contestant(1)
    attempt = await starting.start_attempt(person, case.round_id)
    await answer(attempt, person, 2)
    await finishing.submit(attempt, person)
    await kick()
    worker()
    set_id, slug, ids = await published_set(client, clock, count=2, per_run=2)

    r = aioredis.Redis.from_url(os.environ["REDIS_URL"])  # raw bytes: DUMP values are binary

    async def snapshot() -> tuple:
        counts = await Attempt.raw(
            "SELECT (SELECT count(*) FROM attempt) AS a, (SELECT count(*) FROM attempt_item) AS i, "
            "(SELECT coalesce(sum(correct), 0) FROM attempt) AS c, (SELECT count(*) FROM contestant) AS p"
        )
        keys = sorted([k async for k in r.scan_iter() if not k.startswith(b"contest_rate_limit")])
        return counts[0], {k: await r.dump(k) for k in keys}

    before = await snapshot()
    assert any(b"board" in k for k in before[1]), "the boards exist, so an unchanged snapshot means something"
    key = await key_of(ids)
    async with client_for(app) as anyone:
        page = await anyone.get(f"/practice/{set_id}")
        for _ in range(2):  # two whole runs
            play = await anyone.post(f"/practice/{set_id}/start", data={"_csrf_token": csrf_of(page.text)}, follow_redirects=True)
            for position in (1, 2):
                options = [int(o) for o in OPTION.findall(play.text)]
                await anyone.post(
                    f"/practice/{set_id}/answer",
                    data={"position": str(position), "option": str(next(o for o in options if key[o]))},
                    headers={"hx-request": "true", "x-csrftoken": csrf_of(page.text)},
                )
                play = await anyone.get(f"/practice/{set_id}/play")
            assert "2/2 câu đúng" in play.text
        await anyone.get(f"/practice/{set_id}/cards/{slug}")
    assert await snapshot() == before
    await r.aclose()


async def _contest_on(slug: str, now, per_run: int = 1, closes_in: timedelta = timedelta(hours=2)) -> int:  # type: ignore[no-untyped-def]
    rows = await Contest.insert(
        Contest(slug=f"live-{uuid.uuid4().hex[:8]}", title="Vòng thi đang mở", quotas=json.dumps({slug: per_run}))
    ).returning(Contest.id)
    rounds = await Round.insert(
        Round(contest=rows[0]["id"], number=1, title="Tuần 1", opens_at=now - timedelta(hours=1), closes_at=now + closes_in)
    ).returning(Round.id)
    return int(rounds[0]["id"])


async def test_a_live_rounds_question_never_reaches_practice_or_flashcards_until_the_round_closes(client, clock, app) -> None:
    await organiser(client)
    slug, ids = await bank(3)
    practice_q, live = ids[0], ids[1:]
    # Released before any round draws this topic: contests never take it.
    assert (await release(client, slug, [practice_q])).status_code == 302
    round_id = await _contest_on(slug, clock.current)
    from tests.factories import RoundCase

    contest_id = (await Round.select(Round.contest).where(Round.id == round_id).first())["contest"]
    case = RoundCase(contest_id, "", round_id, 1)
    drawn: list[int] = []
    for n in range(1, 7):
        person = await case.contestant(n)
        attempt = await starting.start_attempt(person, round_id)
        drawn += [r["question"] for r in await Attempt.raw("SELECT question FROM attempt_item WHERE attempt = {}", attempt)]
    assert practice_q not in drawn and set(drawn) <= set(live)
    in_round = drawn[0]

    # Releasing every live question would leave the open round nothing to draw: refused, nothing changed.
    refused = await release(client, slug, live)
    assert refused.status_code == 409 and "Tuần 1" in refused.text and "sẽ thiếu câu hỏi" in refused.text
    assert await Question.count().where(Question.id.is_in(live) & Question.practice_since.is_not_null()) == 0

    # One drawn question released all the same: held back while its round may take answers.
    assert (await release(client, slug, [in_round])).status_code == 302
    clock.advance(**LATER)
    set_id = await new_set(client, "Bộ đề có câu đang thi", **{slug: 3})
    assert (await publish(client, set_id)).status_code == 302
    status = await client.get("/staff/practice/questions", params={"topic": slug})
    assert "giữ lại đến" in status.text
    text = (await Question.select(Question.text).where(Question.id == in_round).first())["text"]
    explanation = (await Question.select(Question.explanation).where(Question.id == in_round).first())["explanation"]
    practice_text = (await Question.select(Question.text).where(Question.id == practice_q).first())["text"]

    async def everything_practice_shows(browser) -> str:  # type: ignore[no-untyped-def]
        page = await browser.get(f"/practice/{set_id}")
        seen = [page.text]
        for _ in range(5):  # several fresh draws
            play = await browser.post(
                f"/practice/{set_id}/start", data={"_csrf_token": csrf_of(page.text)}, follow_redirects=True
            )
            seen.append(play.text)
        n = 1
        while True:
            card = await browser.get(f"/practice/{set_id}/cards/{slug}", params={"n": n, "side": "back"})
            seen.append(card.text)
            if "Thẻ sau" not in card.text:
                break
            n += 1
        return "\n".join(seen)

    async with client_for(app) as anyone:
        shown = await everything_practice_shows(anyone)
        assert practice_text in shown  # the scan sees what practice shows
        assert text not in shown and explanation not in shown
        assert [q.id for q in await service.cards((await service.set_of(set_id)), slug)] == [practice_q]

        # Once the round has closed (and its grace passed), the question joins practice.
        clock.advance(hours=3)
        shown = await everything_practice_shows(anyone)
        assert text in shown and explanation in shown


async def test_a_release_can_be_undone_only_while_the_key_has_not_been_public(client, clock) -> None:
    await organiser(client)
    slug, ids = await bank(2)
    assert (await release(client, slug, ids)).status_code == 302
    assert (await release(client, slug, [ids[0]], action="withdraw")).status_code == 302  # at once: never shown
    assert (await Question.select(Question.practice_since).where(Question.id == ids[0]).first())["practice_since"] is None
    clock.advance(**LATER)
    refused = await release(client, slug, [ids[1]], action="withdraw")
    assert refused.status_code == 409 and "đã được công khai đáp án" in refused.text
    assert (await Question.select(Question.practice_since).where(Question.id == ids[1]).first())["practice_since"] is not None


async def test_guards_and_bad_input(client, clock, app) -> None:
    # Staff pages: signed in, organisers only.
    assert (await client.get("/staff/practice/")).status_code == 302
    await sign_in(client, await staff("official", [11560]))
    assert (await client.get("/staff/practice/")).status_code == 403
    client.cookies.clear()

    set_id, slug, ids = await published_set(client, clock, count=2, per_run=2)
    form = await client.get("/staff/practice/new")
    token = csrf_of(form.text)
    unknown = await client.post("/staff/practice/new", data={"_csrf_token": token, "title": "Bộ đề", "quota.khong-co": "2"})
    assert unknown.status_code == 422 and "Chủ đề “khong-co” không có trong ngân hàng câu hỏi." in unknown.text
    too_many = await client.post("/staff/practice/new", data={"_csrf_token": token, "title": "Bộ đề", f"quota.{slug}": "51"})
    assert too_many.status_code == 422 and "tối đa 50 câu hỏi" in too_many.text
    empty = await client.post("/staff/practice/new", data={"_csrf_token": token, "title": "Bộ đề"})
    assert empty.status_code == 422 and "Cần ít nhất một chủ đề" in empty.text
    await Question.update({Question.active: False}).where(Question.id == ids[1])
    other, more = await bank(1)
    await Question.update({Question.active: False}).where(Question.id == more[0])
    retired = await release(client, other, [more[0]])
    assert retired.status_code == 409 and "đang ngừng sử dụng" in retired.text
    nothing = await release(client, other, [])
    assert nothing.status_code == 409 and "Hãy chọn ít nhất một câu hỏi." in nothing.text

    async with client_for(app) as anyone:
        # No run yet: back to the set's page.
        assert (await anyone.get(f"/practice/{set_id}/play")).headers["location"] == f"/practice/{set_id}"
        page = await anyone.get(f"/practice/{set_id}")
        assert (await anyone.post(f"/practice/{set_id}/start", data={})).status_code == 403  # no CSRF token
        play = await anyone.post(f"/practice/{set_id}/start", data={"_csrf_token": csrf_of(page.text)}, follow_redirects=True)
        # The retired question is not drawn: one question left.
        assert "Câu 1/1" in play.text
        htmx = {"hx-request": "true", "x-csrftoken": csrf_of(page.text)}
        foreign = await anyone.post(f"/practice/{set_id}/answer", data={"position": "1", "option": "1"}, headers=htmx)
        assert foreign.status_code == 422 and "Vui lòng chọn một phương án trả lời." in foreign.text
        ahead = await anyone.post(f"/practice/{set_id}/answer", data={"position": "5", "option": "1"}, headers=htmx)
        assert ahead.status_code == 422
        # An unpublished set is not there for the public.
        assert (await publish(client, set_id, "no")).status_code == 302
        assert (await anyone.get(f"/practice/{set_id}")).status_code == 404
        assert set_id not in [s.id for s in await service.sets()]
