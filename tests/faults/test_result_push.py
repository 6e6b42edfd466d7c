"""Results without polling storms, through the real server: one held request, woken when the worker ranks."""

import asyncio
import re

import asyncpg
import httpx

from contest.settings import get_settings
from tests.conftest import run_worker
from tests.faults.conftest import ApiContestant
from tests.test_journey import csrf_of, register_by_form


async def test_a_held_result_request_answers_as_soon_as_the_worker_ranks_the_attempt(web_app, new_round) -> None:
    web = web_app().start()  # the real server (granian), its channels listening on Redis
    case = await new_round(per_topic=1)
    conn = await asyncpg.connect(get_settings().db.url)
    try:
        async with httpx.AsyncClient(base_url=web.url, timeout=60) as http:
            me = await ApiContestant(http, conn).register(case.slug, 1)
            attempt_id = await me.take(case.round_id, correct=3)
            held = asyncio.create_task(http.get(f"/api/v1/attempts/{attempt_id}/result?wait=20", headers=me.auth))
            await asyncio.sleep(1)
            assert not held.done(), held.result().text  # not ranked yet: the request is held, not answered
            await asyncio.to_thread(run_worker)
            answer = await asyncio.wait_for(held, 10)  # woken by the worker, well before its 20 s
            page = await http.get(f"/api/v1/attempts/{attempt_id}/result", headers=me.auth)
    finally:
        await conn.close()
    assert answer.status_code == 200 and answer.json()["ready"] and answer.json()["correct"] == 3
    assert "retry-after" not in answer.headers and page.json()["best"] is not None


async def test_a_held_result_page_fragment_is_woken_through_the_real_server(web_app, new_round) -> None:
    web = web_app().start()
    case = await new_round(per_topic=1)
    async with httpx.AsyncClient(base_url=web.url, timeout=60) as browser:
        done = await register_by_form(browser, case.slug)
        started = await browser.post(
            f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True
        )
        attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
        result = await browser.post(
            f"/attempts/{attempt_id}/submit", data={"_csrf_token": csrf_of(started.text)}, follow_redirects=True
        )
        # The channel is up: the fragment's request goes out at once and is held.
        assert f'hx-get="/attempts/{attempt_id}/result/status?wait=1" hx-trigger="load"' in result.text
        held = asyncio.create_task(browser.get(f"/attempts/{attempt_id}/result/status?wait=1", headers={"hx-request": "true"}))
        await asyncio.sleep(1)
        assert not held.done()
        await asyncio.to_thread(run_worker)
        fragment = await asyncio.wait_for(held, 10)
    assert "câu đúng" in fragment.text and "hx-trigger" not in fragment.text
