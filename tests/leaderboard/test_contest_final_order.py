"""The contest-wide board follows the published results: among equal points a result of a published round is
ordered by that round's tiebreak (the prediction's relative error, then time, then submission), before a result
still provisional; in a one-round contest it is exactly the order of /results. `contest leaderboards check` and
`rebuild` agree with it, and an attempt ranked live afterwards joins it in the same layout."""

from __future__ import annotations

import json
from datetime import timedelta

from contest import keys
from contest.contests.tables import Contest, Round
from contest.leaderboard.rebuild import check_contest, rebuild, rebuild_round
from contest.redis import async_redis
from contest.results import service
from contest.results.reopening import reopen
from contest.scoring.queue import kick
from tests.factories import HAI_PHONG_COMMUNES, RoundCase
from tests.leaderboard.test_final_order import FINAL, SHORT, order_in, phone, published_round
from tests.results.test_results import _organiser, _take


async def test_a_one_round_contests_board_and_my_places_show_the_order_of_the_results(client, new_round, clock) -> None:
    case, _, _ = await published_round(new_round, clock)
    results = (await client.get(f"/results/{case.round_id}")).text
    assert order_in(results) == FINAL  # A's exact prediction before B's speed, C disqualified

    assert order_in((await client.get(f"/c/{case.slug}/board")).text) == FINAL
    assert order_in((await client.get(f"/c/{case.slug}/board/live")).text) == FINAL
    api = (await client.get(f"/api/v1/contests/{case.slug}/board")).json()
    assert [row["name"] for row in api["top"]] == [SHORT[t] for t in FINAL] and api["total"] == 3
    assert [row["rank"] for row in api["top"]] == [1, 2, 3]
    for place, n in ((1, 1), (2, 2), (3, 4)):  # A, B, D by their registration number
        mine = (await client.get(f"/c/{case.slug}/board/me?phone={phone(case, n)}&birth_year=1990")).text
        assert f"Hạng chung: <strong>{place}</strong>/3" in mine, mine
    assert (await check_contest(case.contest_id)).ok

    # A board that drifted (B above A) is flagged by the check and put back by the rebuild.
    r = async_redis()
    board = keys.contest_board(case.contest_id)
    final = await r.zrange(board, 0, -1, withscores=True)
    second, top = final[-2][0], final[-1][1]
    await r.zadd(board, {second: top + 1})
    found = await check_contest(case.contest_id)
    assert any(d.key == board and d.member == second and d.problem == "wrong" for d in found.differences)
    await rebuild()
    assert await r.zrange(board, 0, -1, withscores=True) == final and (await check_contest(case.contest_id)).ok


async def _second_round(case: RoundCase, clock) -> RoundCase:  # type: ignore[no-untyped-def]
    rows = await Round.insert(
        Round(
            contest=case.contest_id,
            number=2,
            title="Tuần 2",
            opens_at=clock.current - timedelta(minutes=10),
            closes_at=clock.current + timedelta(hours=1),
            max_attempts=2,
            ask_prediction=True,
            state="published",
            prizes=json.dumps([{"name": "Giải Nhất", "count": 1}]),
        )
    ).returning(Round.id)
    return RoundCase(case.contest_id, case.slug, rows[0]["id"], case.per_topic)


async def test_across_rounds_a_tie_on_points_is_broken_by_the_rounds_published_tiebreak(client, new_round, clock, worker) -> None:
    # Round 1: X 3 right with the exact prediction (2 took part), slow; W 1 right.
    first = await new_round(closes_in=timedelta(hours=1))
    await Contest.update({Contest.published: True}).where(Contest.id == first.contest_id)
    await Round.update({Round.ask_prediction: True, Round.state: "published"}).where(Round.id == first.round_id)
    names = {"X": "Trần Thị Xuân", "W": "Đỗ Hữu Dũng", "Y": "Lê Văn Yên", "Z": "Phạm Minh Châu"}
    short = {"X": "Trần T. X.", "W": "Đỗ H. D.", "Y": "Lê V. Y.", "Z": "Phạm M. C."}
    who = {tag: await first.contestant(n, HAI_PHONG_COMMUNES[n % 2], name=names[tag]) for n, tag in enumerate(names, 1)}
    await _take(first, clock, who["X"], 3, 2, 200)
    await _take(first, clock, who["W"], 1, 2, 20)
    await kick()
    worker()
    clock.advance(hours=2)
    actor = await _organiser()
    await service.compute_results(actor, first.round_id)
    await service.publish(actor, first.round_id)

    def shown(text: str) -> list[str]:
        return [tag for _, tag in sorted((text.find(short[t]), t) for t in short if short[t] in text)]

    # Round 2, ranked live while round 1 is published: Y 3 right, a far prediction, faster; Z 3 right, no
    # prediction, fastest. Not yet published: they come after X's published 3, by time.
    second = await _second_round(first, clock)
    await _take(second, clock, who["Y"], 3, 10, 50)
    await _take(second, clock, who["Z"], 3, None, 10)
    await kick()
    worker()
    assert shown((await client.get(f"/c/{first.slug}/board/live")).text) == ["X", "Z", "Y", "W"]
    assert (await check_contest(first.contest_id)).ok  # the live ranking wrote what PostgreSQL says

    # Round 2 published: Y's known error (|10 − 2| / 2) before Z's unknown one, though Z was faster.
    clock.advance(hours=2)
    await service.compute_results(actor, second.round_id)
    await service.publish(actor, second.round_id)
    order = ["X", "Y", "Z", "W"]
    assert shown((await client.get(f"/c/{first.slug}/board")).text) == order
    api = (await client.get(f"/api/v1/contests/{first.slug}/board")).json()
    assert [row["name"] for row in api["top"]] == [short[t] for t in order]
    assert (await check_contest(first.contest_id)).ok
    await rebuild_round(second.round_id, quiet=True)
    assert shown((await client.get(f"/c/{first.slug}/board/live")).text) == order
    assert (await check_contest(first.contest_id)).ok

    # Round 1 reopened: X's result is provisional again, after round 2's published ones of equal points.
    await reopen(actor, first.round_id, "Sửa đáp án")
    assert shown((await client.get(f"/c/{first.slug}/board/live")).text) == ["Y", "Z", "X", "W"]
    assert (await check_contest(first.contest_id)).ok
