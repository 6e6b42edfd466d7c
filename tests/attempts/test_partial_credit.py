"""Partial credit, a contest's choice (as Moodle offers): a question with c correct options among n scores
max(0, right ticked/c − wrong ticked/(n−c)) of a question; a one-answer question 1 or 0; all or nothing stays the
default. Scored by real workers; boards, results, "my places", exports and the Redis check follow the points."""

from __future__ import annotations

import io
import json
import re
import uuid
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from contest.attempts import answering, finishing, starting
from contest.attempts.tables import Attempt, AttemptItem
from contest.contests import builder
from contest.contests.tables import Contest
from contest.i18n import InputError
from contest.leaderboard.boards import top
from contest.leaderboard.rebuild import check_contest, check_round, rebuild
from contest.questions import service as bank
from contest.questions.service import QuestionDraft
from contest.questions.tables import Option
from contest.redis import async_redis
from contest.results import service as results
from contest.scoring.queue import kick
from contest.staff.accounts import create_staff
from contest.staff.signin import staff_user
from tests.staff.test_signin import csrf_of, sign_in, staff

# Three questions: two correct of four, three correct of five, and one answer of three.
QUESTIONS = {
    "two": (["Bật 2FA", "Chia sẻ mật khẩu", "Mật khẩu riêng", "Gửi OTP"], [0, 2]),
    "three": (["Cập nhật", "Sao lưu", "Khóa màn hình", "Tắt tường lửa", "Cài ứng dụng lạ"], [0, 1, 2]),
    "one": (["Đúng", "Sai", "Không biết"], [0]),
}
# What each person ticks, and the points (sixtieths of a question) partial credit gives:
# Lan: 2/2 (60) + 2/3 − 1/2 (10) + right (60) = 130; Minh: 1/2 (30) + 3/3 (60) + wrong (0) = 90;
# Hoa: 1/2 − 1/2 (0) + nothing (0) + right (60) = 60.
TICKS = {
    "Lan": {"two": ["Bật 2FA", "Mật khẩu riêng"], "three": ["Cập nhật", "Sao lưu", "Tắt tường lửa"], "one": ["Đúng"]},
    "Minh": {"two": ["Bật 2FA"], "three": ["Cập nhật", "Sao lưu", "Khóa màn hình"], "one": ["Sai"]},
    "Hoa": {"two": ["Bật 2FA", "Chia sẻ mật khẩu"], "three": [], "one": ["Đúng"]},
}
NAMES = {"Lan": "Trần Thị Lan", "Minh": "Lê Văn Minh", "Hoa": "Phạm Thu Hoa"}
SHORT = {"Lan": "Trần T. L.", "Minh": "Lê V. M.", "Hoa": "Phạm T. H."}


async def _organiser():  # type: ignore[no-untyped-def]
    staff_id = await create_staff(f"o-{uuid.uuid4().hex[:8]}@haiphong.gov.vn", "Ban tổ chức", "organiser")
    return await staff_user(staff_id, 0)


async def _round(new_round, partial: bool):  # type: ignore[no-untyped-def]
    """A round drawing the three questions; option ids by question and text."""
    slug = f"pc_{uuid.uuid4().hex[:10]}"
    topic = (await bank.ensure_topics({slug: f"Chủ đề {slug}"}))[slug]
    ids: dict[int, tuple[str, dict[str, int]]] = {}
    for key, (options, keys) in QUESTIONS.items():
        qid = await bank.create_question(QuestionDraft(topic, f"Câu {key} {slug}", options, keys), None)
        ids[qid] = (key, {o["text"]: o["id"] for o in await Option.select(Option.id, Option.text).where(Option.question == qid)})
    case = await new_round(closes_in=timedelta(hours=1))
    await Contest.update({Contest.quotas: json.dumps({slug: 3}), Contest.partial_credit: partial}).where(
        Contest.id == case.contest_id
    )
    return case, ids


async def _take(case, ids, clock, n: int, who: str, seconds: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    me = await case.contestant(n, name=NAMES[who])
    attempt_id = await starting.start_attempt(me, case.round_id)
    items = await AttemptItem.select(AttemptItem.position, AttemptItem.question).where(AttemptItem.attempt == attempt_id)
    for item in items:
        key, options = ids[item["question"]]
        ticked = [options[t] for t in TICKS[who][key]]
        if key == "one":
            await answering.save_answer(attempt_id, me, item["position"], ticked[0])
        else:
            await answering.save_choices(attempt_id, me, item["position"], ticked)
    clock.advance(seconds=seconds)
    await finishing.submit(attempt_id, me)
    return me, attempt_id


async def _everyone_takes(case, ids, clock, worker) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    # The faster the fewer points: the order can only come from the points.
    people = {
        who: await _take(case, ids, clock, n, who, seconds)
        for n, (who, seconds) in enumerate((("Lan", 300), ("Minh", 200), ("Hoa", 100)), start=1)
    }
    await kick()
    worker()
    return people


async def _scores(people) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    rows = {r["id"]: r for r in await Attempt.select(Attempt.id, Attempt.correct, Attempt.points)}
    return {who: (rows[a]["correct"], rows[a]["points"]) for who, (_, a) in people.items()}


def _order(html: str) -> list[str]:
    return [who for _, who in sorted((html.find(SHORT[w]), w) for w in SHORT if SHORT[w] in html)]


async def test_partial_credit_scores_a_question_of_several_answers_in_part_and_ranks_by_points(
    client, new_round, clock, worker
) -> None:
    case, ids = await _round(new_round, partial=True)
    people = await _everyone_takes(case, ids, clock, worker)
    # (questions right in full, points): the all-or-nothing count is kept beside the points.
    assert await _scores(people) == {"Lan": (2, 130), "Minh": (1, 90), "Hoa": (1, 60)}

    board = (await client.get(f"/rounds/{case.round_id}/board/live")).text
    assert _order(board) == ["Lan", "Minh", "Hoa"]
    assert "<td>2,17</td>" in board and "<td>1,5</td>" in board and "<td>1</td>" in board
    api = (await client.get(f"/api/v1/rounds/{case.round_id}/board")).json()
    assert [row["correct"] for row in api["top"]] == [pytest.approx(130 / 60), 1.5, 1]
    assert (await client.get(f"/api/v1/contests/{case.slug}")).json()["partial_credit"] is True
    assert "được chấm điểm từng phần" in (await client.get(f"/c/{case.slug}/the-le")).text
    mine = (await client.get(f"/rounds/{case.round_id}/board/me?phone=0912{case.round_id % 1000:03d}002&birth_year=1990")).text
    assert re.search(r"Hạng chung: <strong>2</strong>/3 \(1,5 câu đúng", mine), mine

    # Redis agrees with PostgreSQL, and a rebuild from PostgreSQL gives the same boards.
    assert (await check_round(case.round_id)).ok and (await check_contest(case.contest_id)).ok
    r = async_redis()
    before = await top(r, case.round_id)
    await r.flushdb()
    await rebuild(case.round_id, quiet=True)
    assert await top(r, case.round_id) == before and (await check_round(case.round_id)).ok

    # The results of the closed round order by points, show them, and export them.
    clock.advance(hours=2)
    organiser = await _organiser()
    await results.compute_results(organiser, case.round_id)
    ranked = {row["contestant"]: (row["rank"], row["points"]) for row in await results.results_of(case.round_id)}
    assert ranked == {people["Lan"][0]: (1, 130), people["Minh"][0]: (2, 90), people["Hoa"][0]: (3, 60)}
    await results.publish(organiser, case.round_id)
    public = (await client.get(f"/results/{case.round_id}")).text
    assert _order(public) == ["Lan", "Minh", "Hoa"] and "<td>1,5</td>" in public
    assert (await check_round(case.round_id)).ok and (await check_contest(case.contest_id)).ok
    _, data = await results.export_xlsx(organiser, case.round_id)
    sheet = load_workbook(io.BytesIO(data)).active
    assert [row[6] for row in sheet.iter_rows(min_row=2, max_row=4, values_only=True)] == [pytest.approx(130 / 60), 1.5, 1]


async def test_all_or_nothing_stays_the_default(client, new_round, clock, worker) -> None:
    case, ids = await _round(new_round, partial=False)
    people = await _everyone_takes(case, ids, clock, worker)
    assert await _scores(people) == {"Lan": (2, 120), "Minh": (1, 60), "Hoa": (1, 60)}
    best = await top(async_redis(), case.round_id)
    assert [member for _, member, _ in best] == [people[w][0] for w in ("Lan", "Hoa", "Minh")]  # Hoa was faster
    assert (await check_round(case.round_id)).ok
    assert (await client.get(f"/api/v1/contests/{case.slug}")).json()["partial_credit"] is False
    assert "chỉ được điểm khi chọn đúng và đủ" in (await client.get(f"/c/{case.slug}/the-le")).text


async def test_the_organiser_chooses_partial_credit_in_the_contest_form_until_anyone_takes_it(client, new_round) -> None:
    await sign_in(client, await staff("organiser"))
    form = await client.get("/staff/contests/new")
    assert 'name="scoring" value="all" checked' in form.text and "Chấm điểm câu nhiều đáp án" in form.text
    fields = {"_csrf_token": csrf_of(form.text), "title": "Thi điểm từng phần", "time_limit_minutes": "15"}
    fields |= {"quota.online_safety": "2", "scoring": "partial"}
    made = await client.post("/staff/contests/new", data=fields)
    contest_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert (await Contest.select(Contest.partial_credit).where(Contest.id == contest_id).first())["partial_credit"]
    page = await client.get(f"/staff/contests/{contest_id}")
    assert 'name="scoring" value="partial" checked' in page.text
    bad = await client.post(f"/staff/contests/{contest_id}", data=fields | {"scoring": "half"})
    assert bad.status_code == 422 and "Cách chấm câu nhiều đáp án không hợp lệ" in bad.text

    # Once anyone has started, every attempt is scored by the same rule: the choice is refused.
    case, _ = await _round(new_round, partial=False)
    me = await case.contestant(1)
    await starting.start_attempt(me, case.round_id)
    row = await Contest.select().where(Contest.id == case.contest_id).first()
    same = {"title": row["title"], "time_limit_minutes": str(row["time_limit_seconds"] // 60), "scoring": "partial"}
    same |= {f"quota.{k}": str(v) for k, v in json.loads(row["quotas"]).items()}
    with pytest.raises(InputError) as refused:
        await builder.save_contest(await _organiser(), same, [], [], [], case.contest_id)
    assert refused.value.errors == {"partial_credit": "partial_credit_locked"}
    locked = await client.post(f"/staff/contests/{case.contest_id}", data=same | {"_csrf_token": fields["_csrf_token"]})
    assert locked.status_code == 422 and "không thể đổi cách chấm câu nhiều đáp án" in locked.text
    assert not (await Contest.select(Contest.partial_credit).where(Contest.id == case.contest_id).first())["partial_credit"]
    # Saving it unchanged is still fine.
    await builder.save_contest(await _organiser(), same | {"scoring": "all"}, [], [], [], case.contest_id)
