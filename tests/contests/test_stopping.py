"""An organiser stops a round: closes it now (attempts in progress submitted, or left to their own deadline), or
suspends it with a reason contestants read, and resumes it."""

import pytest

from contest.attempts import finishing, starting
from contest.attempts import service as attempts
from contest.attempts.tables import Attempt
from contest.contests import service as contests
from contest.i18n import InputError
from contest.scoring.queue import kick
from contest.staff.tables import AuditEntry
from tests.contests.test_builder import change_state, organiser, token
from tests.factories import RoundCase, answer
from tests.staff.test_signin import csrf_of

LEAK = "Lộ đáp án câu 3"


async def _close(client, round_id: int, choice: str, reason: str = LEAK):  # type: ignore[no-untyped-def]
    csrf = await token(client, f"/staff/contests/rounds/{round_id}/close")
    return await client.post(
        f"/staff/contests/rounds/{round_id}/close", data={"_csrf_token": csrf, "reason": reason, "attempts": choice}
    )


async def _identify(client, case: RoundCase, n: int) -> None:  # type: ignore[no-untyped-def]
    form = await client.get(f"/c/{case.slug}/register")
    phone = f"0912{case.round_id % 1000:03d}{n:03d}"
    await client.post(f"/c/{case.slug}/identify", data={"_csrf_token": csrf_of(form.text), "phone": phone, "birth_year": "1990"})


async def _audited(round_id: int, action: str) -> list[dict]:
    rnd = await contests.round_row(round_id)
    return await AuditEntry.select().where(
        (AuditEntry.action == action) & (AuditEntry.target == f"{rnd['contest_slug']}#{rnd['number']}")
    )


async def test_closing_a_round_now_submits_attempts_in_progress_with_their_answers_scored_once(
    client, new_round, clock, worker
) -> None:
    case = await new_round(per_topic=1)
    first, second = await case.contestant(1), await case.contestant(2)
    a1 = await starting.start_attempt(first, case.round_id)
    a2 = await starting.start_attempt(second, case.round_id)
    await answer(a1, first, 3)
    clock.advance(minutes=2)
    await organiser(client)
    confirm = await client.get(f"/staff/contests/rounds/{case.round_id}/close")
    assert confirm.status_code == 200 and 'class="in-progress">2<' in confirm.text
    assert (await _close(client, case.round_id, "submit", reason="")).status_code == 422, "a reason is required"

    closed = await _close(client, case.round_id, "submit")
    assert closed.status_code == 302
    rows = {r["id"]: r for r in await Attempt.select().where(Attempt.round == case.round_id)}
    assert {rows[a]["status"] for a in (a1, a2)} == {"submitted"}
    assert rows[a1]["submitted_at"] == clock.current and rows[a1]["duration_ms"] == 120_000
    rnd = await contests.round_row(case.round_id)
    assert rnd["closes_at"] == clock.current and rnd["stop_reason"] == LEAK
    [entry] = await _audited(case.round_id, "round.close_now")
    assert '"submitted": 2' in entry["detail"] and LEAK in entry["detail"]

    worker()
    scored = {r["id"]: r for r in await Attempt.select().where(Attempt.round == case.round_id)}
    assert scored[a1]["status"] == "scored" and scored[a1]["correct"] == 3 and scored[a2]["correct"] == 0
    await kick()
    worker()
    again = {r["id"]: r["scored_at"] for r in await Attempt.select().where(Attempt.round == case.round_id)}
    assert again == {a: scored[a]["scored_at"] for a in scored}, "scored exactly once"

    with pytest.raises(InputError):
        await starting.start_attempt(await case.contestant(3), case.round_id)
    page = await client.get(f"/c/{case.slug}")
    assert "đã đóng vòng thi này sớm" in page.text and LEAK in page.text
    assert (await change_state(client, case.round_id, "results")).status_code == 302, "results at once"


async def test_closing_now_can_let_attempts_in_progress_run_to_their_own_deadline(client, new_round, clock) -> None:
    case = await new_round(per_topic=1, time_limit=600)
    me = await case.contestant(1)
    mine = await starting.start_attempt(me, case.round_id)
    deadline = (await attempts.attempt_view(mine, me, with_items=False)).deadline
    clock.advance(minutes=1)
    await organiser(client)
    assert (await _close(client, case.round_id, "keep")).status_code == 302

    rnd = await contests.round_row(case.round_id)
    assert rnd["closes_at"] == deadline, "the round ends with the last attempt in progress"
    await answer(mine, me, 2)
    assert await starting.start_attempt(me, case.round_id) == mine, "the attempt in progress goes on"
    with pytest.raises(InputError) as refused:
        await starting.start_attempt(await case.contestant(2), case.round_id)
    assert refused.value.errors == {"round": "round_stopped"} and LEAK in refused.value.messages()["round"]
    assert await attempts.review(mine, me) is None, "no key while anyone may still answer"
    assert (await change_state(client, case.round_id, "results")).status_code == 409
    api = (await client.get(f"/api/v1/contests/{case.slug}")).json()
    assert api["rounds"][0]["state"] == "closed"

    clock.advance(minutes=10)
    assert await finishing.close_expired(contestant_id=me) == 1
    row = await Attempt.select(Attempt.status, Attempt.auto_submitted).where(Attempt.id == mine).first()
    assert row == {"status": "submitted", "auto_submitted": True}
    assert (await change_state(client, case.round_id, "results")).status_code == 302


async def test_a_suspended_round_refuses_starts_on_the_form_and_the_api_says_why_and_resumes(client, new_round, clock) -> None:
    case = await new_round(per_topic=1)
    await organiser(client)
    csrf = await token(client, f"/staff/contests/rounds/{case.round_id}")
    suspended = await client.post(
        f"/staff/contests/rounds/{case.round_id}/suspend", data={"_csrf_token": csrf, "reason": "Câu 7 sai đáp án"}
    )
    assert suspended.status_code == 302
    staff_page = await client.get(f"/staff/contests/rounds/{case.round_id}")
    assert "Đang tạm dừng" in staff_page.text and "Cho thi tiếp" in staff_page.text

    client.cookies.clear()
    await case.contestant(1)
    await _identify(client, case, 1)
    contest_page = await client.get(f"/c/{case.slug}")
    assert "Vòng thi đang tạm dừng" in contest_page.text and "Câu 7 sai đáp án" in contest_page.text
    mine = await client.get(f"/c/{case.slug}/me")  # the contestant's own part of the contest page
    assert "Bắt đầu thi" not in mine.text
    board = await client.get(f"/rounds/{case.round_id}/board")
    assert "Vòng thi đang tạm dừng" in board.text and "Câu 7 sai đáp án" in board.text
    csrf = csrf_of(mine.text)
    refused = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf})
    assert refused.status_code == 409 and "Câu 7 sai đáp án" in refused.text
    who = {"phone": f"0912{case.round_id % 1000:03d}001", "birth_year": 1990}
    token_ = (await client.post(f"/api/v1/contests/{case.slug}/identify", json=who)).json()["token"]
    api = await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers={"authorization": f"Bearer {token_}"})
    assert api.status_code in (409, 422) and "Câu 7 sai đáp án" in api.text

    client.cookies.clear()
    await organiser(client)
    csrf = await token(client, f"/staff/contests/rounds/{case.round_id}")
    assert (await client.post(f"/staff/contests/rounds/{case.round_id}/resume", data={"_csrf_token": csrf})).status_code == 302
    assert "tạm dừng" not in (await client.get(f"/c/{case.slug}")).text
    started = await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers={"authorization": f"Bearer {token_}"})
    assert started.status_code == 201, started.text
    assert len(await _audited(case.round_id, "round.suspend")) == 1
    assert len(await _audited(case.round_id, "round.resume")) == 1
