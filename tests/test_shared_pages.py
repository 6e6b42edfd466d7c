"""Public pages the crowd opens at once are one shared rendering per page and language (contest.shared): the same for
every viewer, never anyone's own places or cookies, fresh within two seconds, one rendering at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from contest import keys, shared
from contest.leaderboard.boards import ScoredAttempt, rank_attempts
from contest.redis import async_redis
from contest.scoring.queue import kick
from tests.conftest import client_for
from tests.leaderboard.test_public_boards import THUY_NGUYEN, person, phone_of, take
from tests.staff.test_signin import csrf_of

SECONDS = 2.0


@pytest.fixture
def sharing(monkeypatch) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Sharing on, as in production (the suite renders per request otherwise)."""
    monkeypatch.setattr(shared, "interval", lambda: SECONDS)
    shared.forget()
    yield
    shared.forget()


def public_urls(case) -> list[str]:  # type: ignore[no-untyped-def]
    r, c = case.round_id, case.slug
    return [
        "/",
        f"/c/{c}",
        f"/c/{c}/the-le",
        f"/rounds/{r}/board",
        f"/rounds/{r}/board/live",
        f"/rounds/{r}/communes",
        f"/c/{c}/board",
        f"/c/{c}/board/live",
        f"/c/{c}/communes",
        f"/api/v1/contests/{c}",
        f"/api/v1/rounds/{r}/board",
        f"/api/v1/contests/{c}/board",
        # What registration reads, by everyone at an opening: the commune lists and the privacy notice.
        f"/communes?province=31&contest={c}",
        "/api/v1/privacy",
        "/api/v1/provinces/31/communes",
        f"/api/v1/contests/{c}/provinces",
        f"/api/v1/contests/{c}/provinces/31/communes",
    ]


async def signed_in(app, case, n: int):  # type: ignore[no-untyped-def]
    browser = client_for(app)
    form = await browser.get(f"/c/{case.slug}/register")
    await browser.post(
        f"/c/{case.slug}/identify", data={"_csrf_token": csrf_of(form.text), "phone": phone_of(case, n), "birth_year": "1990"}
    )
    return browser


async def test_every_viewer_gets_the_same_page_in_their_own_language_and_no_cookie(app, client, new_round, sharing) -> None:
    case = await new_round()
    me = await person(case, 1)
    await take(case.round_id, me, 2)
    anonymous, english = client_for(app), client_for(app)
    english.cookies.set("lang", "en")
    contestant = await signed_in(app, case, 1)
    for url in public_urls(case):
        seen = [await b.get(url) for b in (anonymous, contestant, english)]
        for answer in seen:
            assert answer.status_code == 200, url
            assert "set-cookie" not in answer.headers, url
            assert answer.headers["cache-control"] == "public, max-age=1", url
            vary = "Accept-Encoding, Accept-Language" if url.startswith("/api/") else "Accept-Encoding, Cookie"
            assert answer.headers["vary"] == vary, url
            assert "Xin chào" not in answer.text and "csrftoken" not in answer.text and "_csrf_token" not in answer.text
        assert seen[0].content == seen[1].content and seen[0].headers["etag"] == seen[1].headers["etag"], url
        if not url.startswith("/api/"):
            assert '<html lang="vi">' in seen[0].text or "<html" not in seen[0].text, url
            assert '<html lang="en">' in seen[2].text or "<html" not in seen[2].text, url
    assert "Leaderboard" in (await english.get(f"/rounds/{case.round_id}/board")).text


async def test_two_signed_in_contestants_see_their_own_places_never_each_others(app, client, new_round, worker, sharing) -> None:
    case = await new_round()
    an = await person(case, 1, name="Nguyễn Văn An")
    binh = await person(case, 2, name="Lê Thị Bình")
    await take(case.round_id, an, 3)
    await take(case.round_id, binh, 1)
    await kick()
    worker()
    first, second = await signed_in(app, case, 1), await signed_in(app, case, 2)
    mine_1 = (await first.get(f"/rounds/{case.round_id}/board/mine")).text
    mine_2 = (await second.get(f"/rounds/{case.round_id}/board/mine")).text
    assert "Nguyễn V. A." in mine_1 and "Hạng chung: <strong>1</strong>/2" in mine_1 and "Lê T. B." not in mine_1
    assert "Lê T. B." in mine_2 and "Hạng chung: <strong>2</strong>/2" in mine_2 and "Nguyễn V. A." not in mine_2
    assert "set-cookie" not in (await first.get(f"/rounds/{case.round_id}/board")).headers
    for browser in (first, second):
        assert "Hạng chung" not in (await browser.get(f"/rounds/{case.round_id}/board")).text
    # Nobody signed in: htmx stops asking (286).
    assert (await client_for(app).get(f"/rounds/{case.round_id}/board/mine")).status_code == 286
    # The contest page's own part: each their own greeting and start form, with their CSRF token.
    me_1 = (await first.get(f"/c/{case.slug}/me")).text
    assert "Nguyễn Văn An" in me_1 and "Lê Thị Bình" not in me_1 and 'name="_csrf_token"' in me_1
    assert "Lê Thị Bình" in (await second.get(f"/c/{case.slug}/me")).text


async def test_a_new_score_is_on_the_board_within_two_seconds(client, new_round, clock, sharing) -> None:
    case = await new_round(per_topic=2)
    live = f"/rounds/{case.round_id}/board/live"
    first = await client.get(live)
    assert "Chưa có kết quả." in first.text
    me = await person(case, 1)
    await rank_attempts(async_redis(), [ScoredAttempt(10**9 + me, case.round_id, me, THUY_NGUYEN, 4 * 60, 60_000, 5, "citizens")])
    assert (await client.get(live)).text == first.text  # everyone shares one rendering for up to two seconds
    clock.advance(seconds=SECONDS)
    assert "Trần T. B. N." in (await client.get(live)).text


async def test_200_requests_at_once_to_an_expired_page_cause_one_rendering(client, new_round, clock, sharing) -> None:
    case = await new_round()
    url = f"/rounds/{case.round_id}/board"

    def renderings() -> int:
        return sum(n for key, n in shared.RENDERINGS.items() if key.startswith(keys.shared_page(f"{url}?|")))

    for expired_copy in (False, True):  # no copy at all (they wait for the one), then an old one (served meanwhile)
        if expired_copy:
            clock.advance(seconds=SECONDS + 0.1)
        else:
            await shared.drop_all()
        before = renderings()
        answers = await asyncio.gather(*(client.get(url) for _ in range(200)))
        assert {a.status_code for a in answers} == {200}
        assert renderings() - before == 1, expired_copy


async def test_a_repeat_view_with_the_same_etag_gets_304(client, new_round, sharing) -> None:
    case = await new_round()
    for url in (f"/c/{case.slug}", f"/api/v1/rounds/{case.round_id}/board", f"/rounds/{case.round_id}/board/live"):
        first = await client.get(url)
        again = await client.get(url, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
        assert (await client.get(url, headers={"if-none-match": '"other"'})).status_code == 200


async def test_a_compressed_copy_is_kept_apart_from_a_plain_one(client, new_round, sharing) -> None:
    case = await new_round()
    url = f"/c/{case.slug}"
    plain = await client.get(url, headers={"accept-encoding": "identity"})
    brotli = await client.get(url, headers={"accept-encoding": "gzip, br"})
    assert "content-encoding" not in plain.headers and brotli.headers["content-encoding"] == "br"
    assert plain.headers["etag"] != brotli.headers["etag"] and brotli.text == plain.text


async def test_an_unknown_page_is_not_found_and_not_shared(client, sharing) -> None:
    answer = await client.get("/rounds/987655/board")
    assert answer.status_code == 404 and "etag" not in answer.headers
    assert "set-cookie" not in answer.headers
