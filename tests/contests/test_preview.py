"""An organiser's "Thi thử" (preview) leaves no contestant: no export, count, board, ranking or result sees it."""

import re
from datetime import timedelta

from contest.attempts import finishing, starting
from contest.contests.tables import Round
from contest.leaderboard import collective, views
from contest.leaderboard.scope import round_scope
from contest.officials import service as officials
from contest.people.duplicates import contests_with_counts
from contest.people.tables import Contestant
from contest.results import service as results
from contest.results.tables import RoundResult
from contest.staff.signin import staff_user
from contest.staff.tables import Staff
from tests.factories import answer, answer_key
from tests.staff.test_signin import csrf_of, sign_in, staff


async def preview_a_round(client, round_id: int) -> int:  # type: ignore[no-untyped-def]
    """Start a preview from the round page, answer every question right, submit; returns the attempt id."""
    csrf = csrf_of((await client.get(f"/staff/contests/rounds/{round_id}")).text)
    started = await client.post(f"/staff/contests/rounds/{round_id}/preview", data={"_csrf_token": csrf})
    assert started.status_code == 302
    attempt_id = int(started.headers["location"].rsplit("/", 1)[1])
    for position, (right, _) in (await answer_key(attempt_id)).items():
        saved = await client.post(
            f"/staff/contests/previews/{attempt_id}/answers/{position}", data={"option": right}, headers={"x-csrftoken": csrf}
        )
        assert saved.status_code == 200
    done = await client.post(f"/staff/contests/previews/{attempt_id}/submit", data={"_csrf_token": csrf})
    assert done.status_code == 302
    return attempt_id


async def test_a_preview_leaves_no_trace_in_exports_counts_boards_rankings_or_results(client, new_round, clock, worker) -> None:
    case = await new_round(closes_in=timedelta(hours=1))
    real = await case.contestant(1, name="Trần Thị Thật")
    attempt = await starting.start_attempt(real, case.round_id)
    await answer(attempt, real, 2)
    await finishing.submit(attempt, real)
    email = await staff("organiser")
    await sign_in(client, email)
    me = await Staff.select(Staff.id, Staff.full_name).where(Staff.email == email).first()
    page = await client.get(f"/staff/contests/previews/{await preview_a_round(client, case.round_id)}")
    assert page.status_code == 200
    worker()  # scores the real attempt and the preview alike

    stand_in = await Contestant.select().where(Contestant.phone == f"p{me['id']}").first()
    assert stand_in["preview"] and stand_in["contest"] is None  # marked, and in no contest
    assert await Contestant.count().where(Contestant.contest == case.contest_id) == 1
    assert next(c for c in await contests_with_counts() if c["id"] == case.contest_id)["people"] == 1

    board = await views.board_view(case.round_id)
    assert board is not None and board.people == 1 and board.total == 1 and [r.correct for r in board.rows] == [2]
    scope = await round_scope(case.round_id)
    assert scope is not None
    ranking = await collective.count_collective(scope)
    assert sum(c.people for c in ranking.communes) == 1 and sum(g.people for g in ranking.groups) == 1

    contest = await officials.pick_contest(case.contest_id)
    assert contest is not None
    everywhere = await officials.summary(contest)
    assert (everywhere.registered, everywhere.people, everywhere.attempts) == (1, 1, 1)
    commune = await officials.summary(contest, stand_in["commune"])
    assert commune.registered == (1 if stand_in["commune"] == 11560 else 0)

    clock.advance(hours=2)
    actor = await staff_user(me["id"], 0)
    assert await results.compute_results(actor, case.round_id) == 1
    await results.publish(actor, case.round_id)
    assert [r["contestant"] for r in await RoundResult.select().where(RoundResult.round == case.round_id)] == [real]
    exported = await results.export_rows(case.round_id)
    assert [row[1] for row in exported] == ["Trần Thị Thật"]
    assert not any(me["full_name"] in str(cell) or re.fullmatch(r"p\d+", str(cell)) for row in exported for cell in row)
    public = await client.get(f"/results/{case.round_id}")
    assert public.status_code == 200 and "Trần T. T." in public.text and "1 người tham gia" in public.text
    assert (await Round.select(Round.participants_final).where(Round.id == case.round_id).first())["participants_final"] == 1


async def test_previews_of_two_contests_share_one_stand_in_outside_both(client, new_round, worker) -> None:
    first, second = await new_round(), await new_round()
    email = await staff("organiser")
    await sign_in(client, email)
    a = await preview_a_round(client, first.round_id)
    b = await preview_a_round(client, second.round_id)
    owners = {r["contestant"] for r in await Contestant.raw("SELECT contestant FROM attempt WHERE id = ANY({})", [a, b])}
    assert len(owners) == 1
    assert await Contestant.count().where(Contestant.contest.is_in([first.contest_id, second.contest_id])) == 0
