"""A question with several correct options is "choose all that apply": checkboxes, each change saved as one request
(page and API), scored all or nothing by a real worker, and shown so in the review after the close."""

from __future__ import annotations

import json
import re
import uuid

from contest.attempts import answering, finishing, starting
from contest.attempts.tables import Attempt, AttemptItem
from contest.contests.tables import Contest
from contest.questions import service as bank
from contest.questions.service import QuestionDraft
from contest.questions.tables import Option
from contest.scoring.queue import kick
from tests.staff.test_signin import csrf_of
from tests.test_journey import register_by_form


async def _round_of_one_question(new_round):  # type: ignore[no-untyped-def]
    """A round drawing one question whose correct options are "Bật 2FA" and "Mật khẩu riêng"."""
    slug = f"all_{uuid.uuid4().hex[:10]}"
    topic = (await bank.ensure_topics({slug: f"Chủ đề {slug}"}))[slug]
    options = ["Bật 2FA", "Chia sẻ mật khẩu", "Mật khẩu riêng", "Gửi OTP cho người lạ"]
    qid = await bank.create_question(QuestionDraft(topic, f"Việc nào bảo vệ tài khoản? {slug}", options, [0, 2]), None)
    case = await new_round()
    await Contest.update({Contest.quotas: json.dumps({slug: 1})}).where(Contest.id == case.contest_id)
    ids = {o["text"]: o["id"] for o in await Option.select(Option.id, Option.text).where(Option.question == qid)}
    return case, ids


async def _score(worker) -> None:  # type: ignore[no-untyped-def]
    await kick()
    worker()


async def test_ticking_every_correct_option_and_only_those_scores(client, new_round, worker, clock) -> None:
    case, ids = await _round_of_one_question(new_round)
    done = await register_by_form(client, case.slug, phone="0905 444 555")
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True)
    assert 'type="checkbox"' in started.text and "Chọn tất cả phương án đúng." in started.text
    assert 'type="radio"' not in started.text
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    headers = {"x-csrftoken": csrf_of(started.text), "hx-request": "true"}

    async def tick(*texts: str):  # type: ignore[no-untyped-def]
        # What htmx sends on each change: the whole form, so the whole set of ticked boxes.
        form = {"multiple": "1"} | {f"tick-{ids[t]}": "1" for t in texts}
        return await client.post(f"/attempts/{attempt_id}/answers/1", data=form, headers=headers)

    assert "✓" in (await tick("Bật 2FA")).text
    assert "✓" in (await tick("Bật 2FA", "Mật khẩu riêng")).text  # one request per change
    stored = await AttemptItem.select(AttemptItem.chosen, AttemptItem.chosen_set).where(AttemptItem.attempt == attempt_id)
    assert stored[0]["chosen"] is None and sorted(stored[0]["chosen_set"]) == sorted([ids["Bật 2FA"], ids["Mật khẩu riêng"]])
    reload = await client.get(f"/attempts/{attempt_id}")
    assert reload.text.count("checked") == 2 and 'Đã trả lời <strong id="answered">1</strong>' in reload.text
    other = await client.post(f"/attempts/{attempt_id}/answers/1", data={"multiple": "1", "tick-999999": "1"}, headers=headers)
    assert other.status_code == 409  # not an option of this question

    await client.post(f"/attempts/{attempt_id}/submit", data={"_csrf_token": csrf_of(reload.text)})
    # Two more people: one ticks a wrong option too, one ticks only one of the two.
    for n, texts in ((2, ["Bật 2FA", "Mật khẩu riêng", "Chia sẻ mật khẩu"]), (3, ["Mật khẩu riêng"])):
        me = await case.contestant(n)
        mine = await starting.start_attempt(me, case.round_id)
        await answering.save_choices(mine, me, 1, [ids[t] for t in texts])
        await finishing.submit(mine, me)
    await _score(worker)
    scores = await Attempt.select(Attempt.id, Attempt.correct).where(Attempt.round == case.round_id).order_by(Attempt.id)
    assert [s["correct"] for s in scores] == [1, 0, 0]

    clock.advance(days=8)  # after the close the review shows the key
    review = await client.get(f"/attempts/{attempt_id}/result")
    assert "trả lời đúng" in review.text and "(Chọn tất cả phương án đúng.)" in review.text
    assert review.text.count("✔") == 2


async def test_the_api_answers_a_choose_all_question_with_a_set_of_options(client, new_round, worker) -> None:
    case, ids = await _round_of_one_question(new_round)
    reg = await client.post(
        f"/api/v1/contests/{case.slug}/register",
        json={"full_name": "Vũ Minh Giang", "phone": "0934 111 222", "birth_year": 2001, "commune": 11560,
              "group": "students", "consent": True},
    )  # fmt: skip
    auth = {"authorization": f"Bearer {reg.json()['token']}"}
    attempt = (await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)).json()
    question = attempt["questions"][0]
    assert question["multiple"] is True and question["chosen_ids"] == []
    url = f"/api/v1/attempts/{attempt['id']}/answers/1"
    assert (await client.put(url, headers=auth, json={"option_ids": [ids["Bật 2FA"]]})).status_code == 204
    both = [ids["Bật 2FA"], ids["Mật khẩu riêng"]]
    assert (await client.put(url, headers=auth, json={"option_ids": both})).status_code == 204
    again = (await client.get(f"/api/v1/attempts/{attempt['id']}", headers=auth)).json()
    assert sorted(again["questions"][0]["chosen_ids"]) == sorted(both)
    neither = await client.put(url, headers=auth, json={"option_id": ids["Bật 2FA"], "option_ids": both})
    assert neither.status_code in (400, 409, 422)
    assert (await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth, json={})).status_code == 200
    await _score(worker)
    assert (await Attempt.select(Attempt.correct).where(Attempt.id == attempt["id"]).first())["correct"] == 1


async def test_one_option_of_several_correct_no_longer_scores_but_a_scored_attempt_keeps_its_score(new_round, worker) -> None:
    case, ids = await _round_of_one_question(new_round)
    old = await case.contestant(1)
    before = await starting.start_attempt(old, case.round_id)
    await answering.save_answer(before, old, 1, ids["Bật 2FA"])  # a radio answer, as the page offered before
    await finishing.submit(before, old)
    # Scored under the old rule (any correct option scored): the score stays what it was.
    await Attempt.update({Attempt.status: "scored", Attempt.correct: 1}).where(Attempt.id == before)
    me = await case.contestant(2)
    now = await starting.start_attempt(me, case.round_id)
    await answering.save_answer(now, me, 1, ids["Bật 2FA"])
    await finishing.submit(now, me)
    await _score(worker)
    rows = {
        r["id"]: r["correct"] for r in await Attempt.select(Attempt.id, Attempt.correct).where(Attempt.round == case.round_id)
    }
    assert rows == {before: 1, now: 0}
