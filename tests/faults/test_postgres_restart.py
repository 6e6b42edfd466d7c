"""PostgreSQL stopped and started again under a running app: a clear 503 during, success after, no app restart."""

from __future__ import annotations

import time

import asyncpg
import httpx

from contest.demo import DEMO_SLUG
from tests.faults.conftest import ApiContestant, answer_key_of

UNAVAILABLE = "Hệ thống đang tạm gián đoạn"


async def test_the_app_rides_out_postgresql_restarts_without_a_restart_of_its_own(private_servers, web_app, processes) -> None:
    pg = private_servers.postgres
    app = web_app(**private_servers.env).start()
    db = await asyncpg.connect(pg.url)
    async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
        try:
            round_id = await db.fetchval(
                "SELECT r.id FROM round r JOIN contest c ON c.id = r.contest WHERE c.slug = $1 AND r.number = 1", DEMO_SLUG
            )
            me = await ApiContestant(http, db).register(DEMO_SLUG, 1)
            attempt_id = (await me.start(round_id))["id"]
            key = await answer_key_of(db, attempt_id)
        finally:
            await db.close()
        assert len(key) == 12
        for position in (1, 2, 3):
            assert (await me.answer(attempt_id, position, key[position][0])).status_code == 204

        # A clean stop (every session ended), then a crash (no checkpoint: recovery on start).
        for mode, positions in (("fast", (4, 5, 6, 7)), ("immediate", (8, 9, 10, 11))):
            pg.stop(mode)
            # While it is down: an answer and a page fail at once, with a message and Retry-After; liveness answers.
            began = time.monotonic()
            refused = await me.answer(attempt_id, positions[0], key[positions[0]][0])
            page = await http.get(f"/c/{DEMO_SLUG}")
            assert time.monotonic() - began < 5
            assert refused.status_code == 503 and UNAVAILABLE in refused.json()["errors"]["service"], refused.text
            assert refused.headers["retry-after"] == "5"
            assert page.status_code == 503 and UNAVAILABLE in page.text and "<html" in page.text
            assert (await http.get("/healthz")).status_code == 200
            pg.start()
            # Back on the same data dir and socket: the very next requests succeed, from the same app process.
            for position in positions:
                saved = await me.answer(attempt_id, position, key[position][0])
                assert saved.status_code == 204, (mode, saved.status_code, saved.text, app.log())
            assert (await http.get(f"/c/{DEMO_SLUG}")).status_code == 200

        assert (await me.answer(attempt_id, 12, key[12][0])).status_code == 204
        done = await http.post(f"/api/v1/attempts/{attempt_id}/submit", headers=me.auth, json={})
        assert done.status_code == 200 and done.json()["status"] == "submitted", done.text
        processes.run("worker", "--burst", env=processes.env(**private_servers.env))
        result = (await http.get(f"/api/v1/attempts/{attempt_id}/result", headers=me.auth)).json()
    assert (result["status"], result["correct"], result["total"]) == ("scored", 12, 12)
    assert app.proc is not None and app.proc.poll() is None  # never restarted
