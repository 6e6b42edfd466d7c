"""Final results of a closed round: the full tie order with the prediction, prizes, disqualification, publication."""

import io
import json
import re
import uuid
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from contest.attempts import answering, finishing, starting
from contest.contests.tables import Contest, Round
from contest.i18n import InputError
from contest.results import service
from contest.results.tables import RoundResult
from contest.staff.accounts import create_staff
from contest.staff.signin import staff_user
from contest.staff.tables import AuditEntry
from tests.factories import answer
from tests.staff.test_signin import csrf_of, sign_in, staff

NAMES = ("Trần Thị Bích", "Lê Văn Bình", "Phạm Minh Châu", "Đỗ Hữu Dũng")
FIRST_SECOND = [{"name": "Giải Nhất", "count": 1}, {"name": "Giải Nhì", "count": 1}]


async def _organiser():  # type: ignore[no-untyped-def]
    staff_id = await create_staff(f"o-{uuid.uuid4().hex[:8]}@haiphong.gov.vn", "Ban tổ chức", "organiser")
    return await staff_user(staff_id, 0)


async def _start(case, who: int) -> int:  # type: ignore[no-untyped-def]
    return await starting.start_attempt(who, case.round_id)


async def _take(case, clock, who: int, correct: int, prediction: int | None = None, seconds: float = 60) -> int:  # type: ignore[no-untyped-def]
    """One whole attempt: `correct` right answers, the prediction, `seconds` taken, submitted."""
    attempt_id = await _start(case, who)
    await answer(attempt_id, who, correct)
    if prediction is not None:
        await answering.save_prediction(attempt_id, who, prediction)
    clock.advance(seconds=seconds)
    assert (await finishing.submit(attempt_id, who)).first
    return attempt_id


async def _prizes(case, prizes: list[dict]) -> None:  # type: ignore[no-untyped-def]
    await Round.update({Round.prizes: json.dumps(prizes)}).where(Round.id == case.round_id)


async def _standing(round_id: int) -> dict[int, dict]:
    rows = await RoundResult.select().where(RoundResult.round == round_id)
    return {r["contestant"]: r for r in rows}


async def _closed_round(new_round, clock, n: int = 3):  # type: ignore[no-untyped-def]
    """A round where contestants 1..n finish in that order (more correct answers first), then closes."""
    case = await new_round(closes_in=timedelta(hours=1))
    people = [await case.contestant(i, name=NAMES[i - 1]) for i in range(1, n + 1)]
    for i, who in enumerate(people):
        await _take(case, clock, who, correct=4 - i if i < 4 else 0, seconds=30)
    clock.advance(hours=2)
    return case, people


def test_a_name_is_shortened_to_the_family_name_and_initials() -> None:
    assert service.short_name("Nguyễn Văn An") == "Nguyễn V. A."
    assert service.short_name("  Đặng thị   ánh ") == "Đặng T. Á."
    assert service.short_name("Hà") == "Hà"
    assert service.mask_phone("0912345123") == "09x****123"


async def test_the_full_tie_order_puts_the_closer_prediction_before_the_faster_time(new_round, clock) -> None:
    case = await new_round(closes_in=timedelta(hours=1))
    c = {i: await case.contestant(i) for i in range(1, 8)}
    never = await case.contestant(8)  # registered, never started: not a participant
    await _take(case, clock, c[5], correct=4, seconds=300)  # most correct, no prediction, slow
    await _take(case, clock, c[1], correct=3, prediction=7, seconds=200)  # exact prediction, slower
    await _take(case, clock, c[2], correct=3, prediction=11, seconds=50)  # gap 4, 50 s
    await _take(case, clock, c[2], correct=3, prediction=100, seconds=10)  # faster, but a worse prediction
    a3 = await _start(case, c[3])
    clock.advance(seconds=10)
    a4 = await _start(case, c[4])
    for attempt_id, who in ((a3, c[3]), (a4, c[4])):
        await answer(attempt_id, who, 3)
        await answering.save_prediction(attempt_id, who, 3)  # gap 4, like c2, but faster: 40 s each
    clock.advance(seconds=30)
    await finishing.submit(a3, c[3])
    clock.advance(seconds=10)
    await finishing.submit(a4, c[4])  # same gap, same time, submitted later
    a6, a7 = await _start(case, c[6]), await _start(case, c[7])
    await answer(a6, c[6], 3)
    await answer(a7, c[7], 3)
    clock.advance(seconds=20)
    await finishing.submit(a6, c[6])
    await finishing.submit(a7, c[7])  # identical on every key to c6: they share a rank
    clock.advance(hours=2)

    assert await service.compute_results(await _organiser(), case.round_id) == 7
    frozen = await Round.select(Round.participants_final).where(Round.id == case.round_id).first()
    assert frozen["participants_final"] == 7
    got = await _standing(case.round_id)
    assert never not in got
    assert {who: got[c[who]]["rank"] for who in c} == {5: 1, 1: 2, 3: 3, 4: 4, 2: 5, 6: 6, 7: 6}
    assert (got[c[2]]["prediction"], got[c[2]]["prediction_gap"], got[c[2]]["duration_ms"]) == (11, 4, 50_000)
    assert got[c[6]]["prediction_gap"] is None


async def test_results_wait_for_the_close_and_for_attempts_still_running(new_round, clock) -> None:
    case = await new_round(closes_in=timedelta(minutes=5))
    who = await case.contestant(1)
    await _start(case, who)  # its deadline is the round's close
    actor = await _organiser()
    with pytest.raises(InputError) as early:
        await service.compute_results(actor, case.round_id)
    assert early.value.errors == {"state": "results_too_early"}
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(InputError) as running:
        await service.compute_results(actor, case.round_id)
    assert running.value.errors == {"results": "results_attempts_open"}
    clock.advance(seconds=30)  # past the grace: closed at its deadline and scored inline
    assert await service.compute_results(actor, case.round_id) == 1


async def test_one_prize_per_person_skips_an_earlier_winner_when_the_contest_asks(new_round, clock) -> None:
    case, (a, b, _) = await _closed_round(new_round, clock)
    await Contest.update({Contest.one_prize_per_person: True}).where(Contest.id == case.contest_id)
    await _prizes(case, [{"name": "Giải Nhất", "count": 1}])
    actor = await _organiser()
    await service.compute_results(actor, case.round_id)
    await service.publish(actor, case.round_id)
    assert (await _standing(case.round_id))[a]["prize"] == "Giải Nhất"

    rows = await Round.insert(
        Round(contest=case.contest_id, number=2, title="Tuần 2", opens_at=clock.current - timedelta(minutes=1),
              closes_at=clock.current + timedelta(hours=1), prizes=json.dumps([{"name": "Giải Nhất", "count": 1}]))
    ).returning(Round.id)  # fmt: skip
    second = type(case)(case.contest_id, case.slug, rows[0]["id"], case.per_topic)
    await _take(second, clock, a, correct=4, seconds=30)
    await _take(second, clock, b, correct=2, seconds=30)
    clock.advance(hours=2)
    await service.compute_results(actor, second.round_id)
    got = await _standing(second.round_id)
    assert got[a]["rank"] == 1 and got[a]["prize"] is None and got[b]["prize"] == "Giải Nhất"

    await Contest.update({Contest.one_prize_per_person: False}).where(Contest.id == case.contest_id)
    await service.compute_results(actor, second.round_id)
    got = await _standing(second.round_id)
    assert got[a]["prize"] == "Giải Nhất" and got[b]["prize"] is None


async def test_no_prize_is_proposed_below_the_pass_mark(new_round, clock) -> None:
    case, (a, b, c) = await _closed_round(new_round, clock)  # 4, 3 and 2 right
    await Round.update({Round.pass_mark: 3}).where(Round.id == case.round_id)
    await _prizes(case, [*FIRST_SECOND, {"name": "Giải Ba", "count": 1}])
    await service.compute_results(await _organiser(), case.round_id)
    got = await _standing(case.round_id)
    assert (got[a]["prize"], got[b]["prize"], got[c]["prize"]) == ("Giải Nhất", "Giải Nhì", None)
    assert got[c]["rank"] == 3 and not got[c]["disqualified"]  # still ranked, only not a winner


async def test_a_disqualification_needs_a_reason_is_audited_and_moves_the_prizes_down(client, new_round, clock) -> None:
    case, (a, b, c) = await _closed_round(new_round, clock)
    await _prizes(case, FIRST_SECOND)
    await sign_in(client, await staff("organiser"))
    page = await client.get(f"/staff/results/{case.round_id}")
    csrf = csrf_of(page.text)
    assert (await client.post(f"/staff/results/{case.round_id}/compute", data={"_csrf_token": csrf})).status_code == 302
    got = await _standing(case.round_id)
    assert (got[a]["prize"], got[b]["prize"], got[c]["prize"]) == ("Giải Nhất", "Giải Nhì", None)

    url = f"/staff/results/{case.round_id}/disqualify"
    blank = await client.post(url, data={"_csrf_token": csrf, "contestant": str(a), "reason": "  "})
    assert blank.status_code == 422 and "lý do loại" in blank.text
    done = await client.post(url, data={"_csrf_token": csrf, "contestant": str(a), "reason": "Hai tài khoản cùng một người"})
    assert done.status_code == 302
    got = await _standing(case.round_id)
    assert got[a]["disqualified"] and got[a]["reason"] == "Hai tài khoản cùng một người" and got[a]["prize"] is None
    assert (got[b]["prize"], got[c]["prize"]) == ("Giải Nhất", "Giải Nhì")
    assert (got[b]["rank"], got[c]["rank"]) == (1, 2)
    entry = (
        await AuditEntry.select()
        .where(AuditEntry.action == "results.disqualify")
        .order_by(AuditEntry.id, ascending=False)
        .first()
    )
    assert json.loads(entry["detail"]) == {"contestant": a, "reason": "Hai tài khoản cùng một người"}

    back = await client.post(f"/staff/results/{case.round_id}/reinstate", data={"_csrf_token": csrf, "contestant": str(a)})
    assert back.status_code == 302
    got = await _standing(case.round_id)
    assert not got[a]["disqualified"] and (got[a]["prize"], got[b]["prize"], got[c]["prize"]) == ("Giải Nhất", "Giải Nhì", None)
    assert await AuditEntry.exists().where(AuditEntry.action == "results.reinstate")


async def test_results_are_public_only_once_published_and_then_never_change(client, new_round, clock) -> None:
    case, (a, b, _) = await _closed_round(new_round, clock)
    await _prizes(case, FIRST_SECOND)
    public = f"/results/{case.round_id}"
    await sign_in(client, await staff("organiser"))
    csrf = csrf_of((await client.get(f"/staff/results/{case.round_id}")).text)
    not_yet = await client.post(f"/staff/results/{case.round_id}/publish", data={"_csrf_token": csrf})
    assert not_yet.status_code == 409 and "Chưa tính kết quả" in not_yet.text
    await client.post(f"/staff/results/{case.round_id}/compute", data={"_csrf_token": csrf})
    hidden = await client.get(public)
    assert hidden.status_code == 404 and "Trần" not in hidden.text

    assert (await client.post(f"/staff/results/{case.round_id}/publish", data={"_csrf_token": csrf})).status_code == 302
    row = await Round.select(Round.state, Round.results_published_at).where(Round.id == case.round_id).first()
    assert row["state"] == "results" and row["results_published_at"] == clock.current
    assert await AuditEntry.exists().where(AuditEntry.action == "results.publish")
    shown = await client.get(public)
    assert shown.status_code == 200 and "Giải Nhất" in shown.text and "Trần T. B." in shown.text and "09x****" in shown.text
    again = await client.post(f"/staff/results/{case.round_id}/compute", data={"_csrf_token": csrf})
    assert again.status_code == 409 and "đã công bố" in again.text
    with pytest.raises(InputError):
        await service.disqualify(await _organiser(), case.round_id, b, "Quá muộn để loại")


async def test_the_public_page_shows_no_full_name_and_no_full_phone(client, new_round, clock) -> None:
    case, people = await _closed_round(new_round, clock)
    actor = await _organiser()
    await service.compute_results(actor, case.round_id)
    await service.publish(actor, case.round_id)
    text = (await client.get(f"/results/{case.round_id}")).text
    phones = await RoundResult.raw("SELECT p.phone, p.full_name FROM contestant p WHERE p.id = ANY({})", people)
    assert len(phones) == 3
    for p in phones:
        assert p["phone"] not in text and p["full_name"] not in text
        assert service.mask_phone(p["phone"]) in text and service.short_name(p["full_name"]) in text


async def test_the_export_lists_everyone_registered_including_who_never_started(client, new_round, clock) -> None:
    case = await new_round(closes_in=timedelta(hours=1))
    winner = await case.contestant(1, name="Lê Văn Thắng")
    await case.contestant(2, name="Phạm Thị Chưa Thi")
    await _prizes(case, [{"name": "Giải Nhất", "count": 1}])
    await _take(case, clock, winner, correct=4, prediction=1, seconds=61.5)
    clock.advance(hours=2)
    await service.compute_results(await _organiser(), case.round_id)
    await sign_in(client, await staff("organiser"))
    done = await client.get(f"/staff/results/{case.round_id}/export")
    assert done.status_code == 200 and "attachment" in done.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(done.content)).active.iter_rows(values_only=True))
    assert rows[0] == service.EXPORT_HEADER
    by_name = {r[1]: r for r in rows[1:]}
    assert by_name["Lê Văn Thắng"][:4] == (1, "Lê Văn Thắng", f"0912{case.round_id % 1000:03d}001", 1990)
    assert by_name["Lê Văn Thắng"][6:10] == (4, 1, 0, 61.5) and by_name["Lê Văn Thắng"][11] == "Giải Nhất"
    never = by_name["Phạm Thị Chưa Thi"]
    assert never[0] is None and never[6] is None and never[5] == "Người dân"


async def test_only_organisers_and_admins_reach_the_results_pages(client) -> None:
    anonymous = await client.get("/staff/results/")
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/staff/login")
    await sign_in(client, await staff("official", [11560]))
    assert (await client.get("/staff/results/")).status_code == 403
    client.cookies.clear()
    await sign_in(client, await staff("admin"))
    assert (await client.get("/staff/results/")).status_code == 200


async def test_after_the_close_no_retake_is_offered_and_the_pages_link_the_published_results(
    client, new_round, clock, worker
) -> None:
    from tests.test_journey import register_by_form

    case = await new_round(closes_in=timedelta(hours=1))  # two attempts each
    done = await register_by_form(client, case.slug)
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True)
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    await client.post(f"/attempts/{attempt_id}/submit", data={"_csrf_token": csrf_of(started.text)})
    worker()
    assert "Thi lại" in (await client.get(f"/attempts/{attempt_id}/result")).text  # one attempt left, round open

    clock.advance(hours=2)
    closed = await client.get(f"/attempts/{attempt_id}/result")
    assert closed.status_code == 200 and "Thi lại" not in closed.text and "Bắt đầu thi" not in closed.text
    assert "Bắt đầu thi" not in (await client.get(f"/c/{case.slug}/me")).text
    public = f'href="/results/{case.round_id}"'
    assert public not in (await client.get(f"/c/{case.slug}")).text  # nothing to link before publication

    actor = await _organiser()
    await service.compute_results(actor, case.round_id)
    await service.publish(actor, case.round_id)
    contest_page = await client.get(f"/c/{case.slug}")
    board = await client.get(f"/rounds/{case.round_id}/board")
    assert public in contest_page.text and "Kết quả chính thức" in contest_page.text
    assert public in board.text and "Kết quả chính thức" in board.text
    assert "Thi lại" not in (await client.get(f"/attempts/{attempt_id}/result")).text
