"""The opening: starts beyond what the server takes per second wait in an honest line, in order, with full time."""

import os
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from contest import keys
from contest.redis import async_redis
from contest.settings import get_settings
from tests.test_journey import csrf_of, register_by_form


@pytest.fixture
def line() -> Iterator[None]:
    """A server that lets in 2 starts a second (a low capacity, so that a few contestants are beyond it)."""
    saved = {k: os.environ.get(k) for k in ("CONTEST_START_RATE", "CONTEST_START_BURST")}
    os.environ.update(CONTEST_START_RATE="2", CONTEST_START_BURST="2")
    get_settings.cache_clear()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


async def _api_contestant(client, slug: str, n: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    form = {
        "full_name": "Trần Văn Bình",
        "phone": f"0914 {n:03d} 321",
        "birth_year": 1980,
        "province": 31,
        "commune": 11560,
        "group": "citizens",
        "consent": True,
    }
    done = await client.post(f"/api/v1/contests/{slug}/register", json=form)
    assert done.status_code == 201, done.text
    return {"authorization": f"Bearer {done.json()['token']}"}


async def test_at_an_opening_beyond_capacity_queued_starts_all_begin_in_order_with_full_time(
    client, new_round, clock, line
) -> None:
    await async_redis().delete(keys.ADMISSION_LINE)
    case = await new_round(per_topic=1, time_limit=600)
    people = [await _api_contestant(client, case.slug, n) for n in range(8)]
    start = f"/api/v1/rounds/{case.round_id}/attempts"

    first = [await client.post(start, headers=auth) for auth in people]
    assert [r.status_code for r in first] == [201, 201, 202, 202, 202, 202, 202, 202]  # none fails
    queued = [r.json() for r in first[2:]]
    assert [q["position"] for q in queued] == [1, 2, 3, 4, 5, 6]
    assert [q["wait_seconds"] for q in queued] == [1, 1, 2, 2, 3, 3]
    assert all(r.headers["retry-after"] == str(q["retry_after"]) for r, q in zip(first[2:], queued, strict=True))
    began = {i: (clock.current, first[i].json()) for i in (0, 1)}

    waiting = list(range(2, 8))
    while waiting:
        clock.advance(seconds=1)
        # Asked again from the back of the line first: the order is the tickets', not who asks first.
        answers = {i: await client.post(queued[i - 2]["poll"], headers=people[i]) for i in reversed(waiting)}
        assert all(r.status_code in (201, 202) for r in answers.values())
        let_in = [i for i in waiting if answers[i].status_code == 201]
        assert let_in == waiting[:2]  # two a second, in the order they came
        for i in let_in:
            began[i] = (clock.current, answers[i].json())
        waiting = waiting[2:]

    for at, attempt in began.values():  # the time counts from when each really started
        assert attempt["seconds_left"] == 600 and attempt["deadline"].startswith((at + timedelta(seconds=600)).isoformat()[:19])


async def test_the_waiting_page_shows_the_place_in_line_and_lets_the_contestant_in_when_it_is_their_turn(
    client, new_round, clock, line
) -> None:
    await async_redis().delete(keys.ADMISSION_LINE)
    case = await new_round(per_topic=1, time_limit=600)
    for n in range(2):  # two others take this second's places
        await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=await _api_contestant(client, case.slug, n))
    done = await register_by_form(client, case.slug)
    waiting = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)})
    assert waiting.status_code == 202 and "vị trí <strong>1</strong>" in waiting.text
    assert waiting.headers["retry-after"] == "2"
    assert f'hx-post="/rounds/{case.round_id}/queue" hx-trigger="load delay:2s"' in waiting.text

    headers = {"x-csrftoken": csrf_of(waiting.text), "hx-request": "true"}
    clock.advance(seconds=1)
    let_in = await client.post(f"/rounds/{case.round_id}/queue", headers=headers)
    attempt = re.fullmatch(r"/attempts/(\d+)", let_in.headers["hx-redirect"])
    assert attempt is not None
    page = await client.get(let_in.headers["hx-redirect"])
    assert page.status_code == 200 and "Câu 1/4" in page.text
