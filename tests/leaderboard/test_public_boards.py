"""Public boards: per group and per contest, each contestant's own place, short names and masked phones
everywhere the public looks, and a live fragment shared by every viewer for a few seconds."""

from __future__ import annotations

from datetime import timedelta

from contest import keys
from contest.attempts import finishing, starting
from contest.contests.tables import Round
from contest.leaderboard.boards import ScoredAttempt, group_participation, place_on, rank_attempts, top_and_rank
from contest.leaderboard.scope import round_scope
from contest.people.phone import mask_phone, short_name
from contest.people.service import Registration, register
from contest.redis import async_redis
from contest.scoring.queue import kick
from tests.factories import HAI_PHONG_COMMUNES, RoundCase, answer
from tests.staff.test_signin import csrf_of

THUY_NGUYEN, THIEN_HUONG = HAI_PHONG_COMMUNES


def phone_of(case: RoundCase, n: int) -> str:
    return f"0913{case.round_id % 1000:03d}{n:03d}"


async def person(case: RoundCase, n: int, group: str = "citizens", commune: int = THUY_NGUYEN, name: str = "") -> int:
    name = name or "Trần Thị Bích Ngọc"
    return await register(case.contest_id, Registration(name, phone_of(case, n), 1990, 31, commune, group, True))


async def take(round_id: int, contestant_id: int, correct: int) -> None:
    attempt_id = await starting.start_attempt(contestant_id, round_id)
    await answer(attempt_id, contestant_id, correct)
    await finishing.submit(attempt_id, contestant_id)


async def second_round(case: RoundCase, now) -> int:  # type: ignore[no-untyped-def]
    rows = await Round.insert(
        Round(
            contest=case.contest_id,
            number=2,
            title="Tuần 2",
            opens_at=now - timedelta(minutes=30),
            closes_at=now + timedelta(days=7),
        )
    ).returning(Round.id)
    return int(rows[0]["id"])


def test_names_are_shortened_and_phones_masked() -> None:
    assert short_name("Nguyễn Văn An") == "Nguyễn V. A."
    assert short_name("  trần   thị bích ngọc ") == "trần T. B. N."
    assert short_name("Lan") == "Lan"
    assert mask_phone("0912345678") == "09x****678"
    assert mask_phone("123") == "***"


async def test_each_group_has_its_own_board_and_ranks(new_round, worker) -> None:
    case = await new_round(per_topic=2)
    people = {1: ("teachers", 6), 2: ("students", 8), 3: ("teachers", 7), 4: ("students", 2), 5: ("citizens", 1)}
    ids = {}
    for n, (group, correct) in people.items():
        ids[n] = await person(case, n, group)
        await take(case.round_id, ids[n], correct)
    await kick()
    worker()
    r = async_redis()
    scope = await round_scope(case.round_id)
    assert scope is not None
    teachers, total, mine = await top_and_rank(r, scope.key(group="teachers"), 20, ids[1])
    assert [(rank, cid) for rank, cid, _ in teachers] == [(1, ids[3]), (2, ids[1])] and total == 2
    assert mine is not None and (mine.rank, mine.of, mine.correct) == (2, 2, 6)
    assert (await place_on(r, scope.key(group="students"), ids[4])).rank == 2  # type: ignore[union-attr]
    assert (await place_on(r, scope.key(), ids[4])).rank == 4  # type: ignore[union-attr]
    assert await place_on(r, scope.key(group="students"), ids[1]) is None
    assert await group_participation(r, case.round_id) == {"teachers": (2, 2), "students": (2, 2), "citizens": (1, 1)}


async def test_ranking_twice_counts_groups_once(new_round) -> None:
    case = await new_round()
    r = async_redis()
    scored = ScoredAttempt(991, case.round_id, 77, THUY_NGUYEN, 5 * 60, 60_000, 10, "youth", case.contest_id)
    assert await rank_attempts(r, [scored]) == 1
    assert await rank_attempts(r, [scored]) == 0
    better = ScoredAttempt(992, case.round_id, 77, THUY_NGUYEN, 6 * 60, 60_000, 20, "youth", case.contest_id)
    assert await rank_attempts(r, [better, better]) == 1
    assert await group_participation(r, case.round_id) == {"youth": (1, 2)}
    assert await r.zcard(keys.group_board(case.round_id, "youth")) == 1
    assert int(await r.zscore(keys.contest_board(case.contest_id), 77)) == better.score


async def test_the_contest_board_keeps_each_persons_best_over_its_rounds(client, new_round, clock, worker) -> None:
    case = await new_round(per_topic=2)
    round2 = await second_round(case, clock.current)
    a, b = await person(case, 1, name="Lê Văn Hùng"), await person(case, 2, name="Phạm Thu Hà")
    await take(case.round_id, a, 5)
    await take(case.round_id, b, 6)
    await take(round2, a, 7)
    await kick()
    worker()
    body = (await client.get(f"/api/v1/contests/{case.slug}/board")).json()
    assert [(row["rank"], row["name"], row["correct"]) for row in body["top"]] == [(1, "Lê V. H.", 7), (2, "Phạm T. H.", 6)]
    assert body["round_id"] is None and body["total"] == 2
    page = await client.get(f"/c/{case.slug}/board")
    assert page.status_code == 200 and page.text.index("Lê V. H.") < page.text.index("Phạm T. H.")
    one = (await client.get(f"/api/v1/rounds/{case.round_id}/board")).json()
    assert [row["name"] for row in one["top"]] == ["Phạm T. H.", "Lê V. H."]


async def test_no_public_page_or_api_answer_shows_a_full_name_or_phone(client, new_round, clock, worker) -> None:
    case = await new_round()
    me = await person(case, 1, "teachers", THIEN_HUONG, name="Trần Thị Bích Ngọc")
    await take(case.round_id, me, 2)
    await kick()
    worker()
    phone = phone_of(case, 1)
    rid, slug = case.round_id, case.slug
    urls = [
        f"/rounds/{rid}/board",
        f"/rounds/{rid}/board?group=teachers",
        f"/rounds/{rid}/board?commune={THIEN_HUONG}",
        f"/rounds/{rid}/board/live",
        f"/rounds/{rid}/board/live?group=teachers",
        f"/rounds/{rid}/board/me?phone={phone}&birth_year=1990",
        f"/rounds/{rid}/communes",
        f"/c/{slug}/board",
        f"/c/{slug}/board/live?commune={THIEN_HUONG}",
        f"/c/{slug}/board/me?phone={phone}&birth_year=1990",
        f"/c/{slug}/communes",
        f"/api/v1/rounds/{rid}/board",
        f"/api/v1/rounds/{rid}/board?group=teachers",
        f"/api/v1/contests/{slug}/board?commune={THIEN_HUONG}",
    ]
    for url in urls:
        answer_ = await client.get(url)
        assert answer_.status_code == 200, url
        assert "Trần Thị Bích Ngọc" not in answer_.text and phone not in answer_.text, url
        if "communes" not in url:
            assert "Trần T. B. N." in answer_.text and f"09x****{phone[-3:]}" in answer_.text, url


async def test_a_contestant_finds_their_own_place_by_phone_and_birth_year(client, new_round, worker) -> None:
    case = await new_round(per_topic=2)
    first, me = await person(case, 1, "students"), await person(case, 2, "teachers", THIEN_HUONG)
    await take(case.round_id, first, 8)
    await take(case.round_id, me, 3)
    await kick()
    worker()
    found = await client.get(f"/rounds/{case.round_id}/board/me", params={"phone": phone_of(case, 2), "birth_year": "1990"})
    assert "Hạng chung: <strong>2</strong>/2" in found.text
    assert "Hạng trong Phường Thiên Hương: <strong>1</strong>/1" in found.text
    assert "Hạng trong đối tượng Giáo viên: <strong>1</strong>/1" in found.text
    wrong = await client.get(f"/rounds/{case.round_id}/board/me", params={"phone": phone_of(case, 2), "birth_year": "1991"})
    assert "Hạng chung" not in wrong.text and "Trần T. B. N." not in wrong.text


async def test_the_signed_in_contestant_sees_their_place_under_the_board(client, new_round, worker) -> None:
    case = await new_round()
    me = await person(case, 1)
    await take(case.round_id, me, 2)
    await kick()
    worker()
    form = await client.get(f"/c/{case.slug}/register")
    await client.post(
        f"/c/{case.slug}/identify", data={"_csrf_token": csrf_of(form.text), "phone": phone_of(case, 1), "birth_year": "1990"}
    )
    page = await client.get(f"/rounds/{case.round_id}/board")
    assert f'hx-get="/rounds/{case.round_id}/board/mine"' in page.text and "Hạng chung" not in page.text
    mine = await client.get(f"/rounds/{case.round_id}/board/mine")
    assert "Hạng chung: <strong>1</strong>/1" in mine.text
    assert "Hạng chung" not in (await client.get(f"/rounds/{case.round_id}/board/live")).text
    client.cookies.clear()
    assert "Hạng chung" not in (await client.get(f"/rounds/{case.round_id}/board/mine")).text


async def test_the_live_fragment_is_polled(client, new_round) -> None:
    case = await new_round(per_topic=2)
    page = await client.get(f"/rounds/{case.round_id}/board?group=students")
    assert f'hx-get="/rounds/{case.round_id}/board/live?group=students"' in page.text and 'hx-trigger="every 5s"' in page.text
    assert "Chưa có kết quả." in (await client.get(f"/rounds/{case.round_id}/board/live")).text


async def test_boards_of_unknown_rounds_and_contests_are_not_found(client) -> None:
    assert (await client.get("/rounds/987654/board")).status_code == 404
    assert (await client.get("/rounds/987654/board/live")).status_code == 404
    assert (await client.get("/c/no-such-contest/board")).status_code == 404
    assert (await client.get("/api/v1/contests/no-such-contest/board")).status_code == 404
