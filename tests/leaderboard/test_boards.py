"""Boards: the tie order lives in the score, the best attempt counts, ranks per commune."""

from datetime import UTC, datetime

import pytest

from contest.attempts import finishing, starting
from contest.leaderboard import scorecode
from contest.leaderboard.boards import ScoredAttempt, rank_attempts, standing, top
from contest.redis import async_redis
from contest.scoring.queue import kick
from tests.factories import HAI_PHONG_COMMUNES, answer


def test_the_score_orders_correct_then_shorter_time_then_earlier_submission() -> None:
    ordered = [
        scorecode.encode(10, 500_000, 900_000),
        scorecode.encode(9, 1_000, 1),
        scorecode.encode(9, 2_000, 1),
        scorecode.encode(9, 2_000, 2),
        scorecode.encode(0, 0, 0),
    ]
    assert ordered == sorted(ordered, reverse=True)
    assert all(float(s) == s for s in ordered)  # exact in a double, as Redis stores it


# Points in sixtieths of a question (7.5 questions = 450), up to 136 questions; time to the tenth of a second.
@pytest.mark.parametrize("fields", [(0, 0, 0), (450, 123_400, 654_321), (136 * 60, (2**17 - 1) * 100, 2**23 - 1)])
def test_the_score_decodes_to_what_was_encoded(fields) -> None:  # type: ignore[no-untyped-def]
    assert scorecode.decode(float(scorecode.encode(*fields))) == fields
    points, duration_ms, _ = fields
    assert scorecode.decode(float(scorecode.encode_final(points, 2**23 - 1, duration_ms))) == (points, duration_ms, 0)


def test_half_a_question_ranks_between_whole_ones_and_time_counts_to_the_tenth_of_a_second() -> None:
    seven, seven_and_a_half, eight = (scorecode.encode(p, 60_000, 10) for p in (420, 450, 480))
    assert seven < seven_and_a_half < eight
    assert scorecode.encode(450, 60_000, 10) > scorecode.encode(450, 60_100, 10)  # a tenth of a second faster
    assert scorecode.decode(scorecode.encode(450, 61_234, 10))[1] == 61_200
    assert scorecode.in_questions(450) == 7.5 and scorecode.in_questions(420) == 7


async def test_redis_ties_follow_the_tie_order_never_the_alphabet(new_round) -> None:
    case = await new_round()
    r = async_redis()
    # Member ids chosen so that alphabetical order ("9" > "10" > "11") would give the wrong answer.
    await rank_attempts(
        r,
        [
            ScoredAttempt(1, case.round_id, 9, 11560, 8 * 60, 60_000, 100),  # slower
            ScoredAttempt(2, case.round_id, 10, 11560, 8 * 60, 50_000, 200),  # faster: first
            ScoredAttempt(3, case.round_id, 11, 11560, 8 * 60, 60_000, 50),  # as slow as 9, submitted earlier
            ScoredAttempt(4, case.round_id, 12, 11560, 8 * 60, 60_000, 50),  # identical to 11: shares its rank
        ],
    )
    assert [(rank, member) for rank, member, _ in await top(r, case.round_id, 10)][:1] == [(1, 10)]
    ranks = {member: rank for rank, member, _ in await top(r, case.round_id, 10)}
    assert ranks[10] == 1 and ranks[11] == ranks[12] == 2 and ranks[9] == 4
    assert (await standing(r, case.round_id, 12, 11560)).rank == 2


async def test_the_best_attempt_counts_and_a_worse_one_changes_nothing(new_round, clock, worker) -> None:
    case = await new_round(per_topic=2, max_attempts=3)
    me = await case.contestant(1)
    results = []
    for correct in (5, 3, 7):
        attempt_id = await starting.start_attempt(me, case.round_id)
        await answer(attempt_id, me, correct)
        clock.advance(seconds=30)
        await finishing.submit(attempt_id, me)
        await kick()
        worker()
        results.append((await standing(async_redis(), case.round_id, me, 11560)).correct)
    assert results == [5, 5, 7]


async def test_ranks_overall_and_in_the_commune(new_round, clock, worker) -> None:
    case = await new_round(per_topic=2)
    thuy_nguyen, thien_huong = HAI_PHONG_COMMUNES
    people = [(1, thuy_nguyen, 6), (2, thien_huong, 8), (3, thuy_nguyen, 7), (4, thien_huong, 2)]
    ids = {}
    for n, commune, correct in people:
        me = await case.contestant(n, commune)
        attempt_id = await starting.start_attempt(me, case.round_id)
        await answer(attempt_id, me, correct)
        await finishing.submit(attempt_id, me)
        ids[n] = me
    await kick()
    worker()
    r = async_redis()
    s = {n: await standing(r, case.round_id, ids[n], commune) for n, commune, _ in people}
    assert {n: (x.rank, x.commune_rank) for n, x in s.items()} == {1: (3, 2), 2: (1, 1), 3: (2, 1), 4: (4, 2)}
    assert {n: (x.of, x.commune_of) for n, x in s.items()} == {1: (4, 2), 2: (4, 2), 3: (4, 2), 4: (4, 2)}


async def test_boards_rebuild_from_postgresql(new_round, worker) -> None:
    from contest.leaderboard.rebuild import rebuild_round

    case = await new_round()
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    await answer(attempt_id, me, 3)
    await finishing.submit(attempt_id, me)
    await kick()
    worker()
    r = async_redis()
    before = await top(r, case.round_id)
    await r.flushdb()
    assert await top(r, case.round_id) == []
    await rebuild_round(case.round_id)
    assert await top(r, case.round_id) == before
    assert (await standing(r, case.round_id, me, 11560)).correct == 3


def test_a_submission_long_after_the_round_opened_still_fits() -> None:
    opened = datetime(2026, 1, 1, tzinfo=UTC)
    late = int((datetime(2026, 3, 31, tzinfo=UTC) - opened).total_seconds())
    assert scorecode.decode(scorecode.encode(3, 1000, late)) == (3, 1000, late)


async def test_the_public_board_masks_phones_and_counts_people_per_commune(client, new_round, worker) -> None:
    case = await new_round()
    for n, commune in ((1, HAI_PHONG_COMMUNES[0]), (2, HAI_PHONG_COMMUNES[1]), (3, HAI_PHONG_COMMUNES[1])):
        me = await case.contestant(n, commune)
        attempt_id = await starting.start_attempt(me, case.round_id)
        await answer(attempt_id, me, n)
        await finishing.submit(attempt_id, me)
    await kick()
    worker()
    page = await client.get(f"/rounds/{case.round_id}/board")
    assert page.status_code == 200
    phone = f"0912{case.round_id % 1000:03d}003"
    assert phone not in page.text and f"{phone[:2]}x****{phone[-3:]}" in page.text
    rows = page.text.split("Số người tham gia theo xã/phường")[1]
    assert rows.index("Phường Thiên Hương") < rows.index("Phường Thuỷ Nguyên")  # 2 people before 1
