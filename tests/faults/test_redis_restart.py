"""Redis restarted empty under a running app: the boards come back identical from PostgreSQL, the app recovers."""

from __future__ import annotations

import time

import asyncpg
import httpx
import redis
import redis.asyncio as aioredis
from rq import Queue

from contest import keys
from contest.demo import DEMO_SLUG
from tests.faults.conftest import ApiContestant, answer_key_of
from tests.redis_snapshot import redis_snapshot

UNAVAILABLE = "Hệ thống đang tạm gián đoạn"


async def board_keys(r: aioredis.Redis, round_ids: list[int], contest_id: int) -> dict[str, object]:
    """Every board, counter and ranked set of the rounds and the contest, with its whole content."""
    patterns = [p for rid in round_ids for p in keys.round_pattern(rid)] + keys.contest_pattern(contest_id)
    return await redis_snapshot(r, patterns)


async def reconnect(r: aioredis.Redis, url: str) -> aioredis.Redis:
    await r.aclose()
    return aioredis.Redis.from_url(url, decode_responses=True)


async def rebuilt_identical(r, processes, env, rounds: list[int], contest_id: int, before: dict) -> None:  # type: ignore[no-untyped-def]
    """`contest leaderboards rebuild` on an empty Redis gives back every key as it was, and the check agrees."""
    assert await board_keys(r, rounds, contest_id) == {}  # nothing survived the restart
    processes.run("leaderboards", "rebuild", env=env)
    assert await board_keys(r, rounds, contest_id) == before  # member by member, score by score
    assert "differences" not in processes.run("leaderboards", "check", env=env)


async def test_an_emptied_redis_is_rebuilt_identical_while_the_app_keeps_serving(private_servers, web_app, processes) -> None:
    env = processes.env(**private_servers.env)
    db = await asyncpg.connect(private_servers.postgres.url)
    r = aioredis.Redis.from_url(private_servers.redis.url, decode_responses=True)
    app = web_app(**private_servers.env).start()
    try:
        contest_id, first = await db.fetchrow(
            "SELECT c.id, r.id FROM round r JOIN contest c ON c.id = r.contest WHERE c.slug = $1 AND r.number = 1", DEMO_SLUG
        )
        # A second round open now, so the contest-wide boards keep each person's best of two.
        second = await db.fetchval(
            "INSERT INTO round (contest, number, title, opens_at, closes_at, max_attempts, state) "
            "SELECT contest, 3, 'Vòng bổ sung', now() - interval '1 hour', now() + interval '1 day', 2, state "
            "FROM round WHERE id = $1 RETURNING id",
            first,
        )
        rounds = [first, second]
        async with httpx.AsyncClient(base_url=app.url, timeout=30) as http:
            # Five people in two communes: one takes both rounds (twice the first), two tie.
            for n, commune, takes in (
                (1, 11560, [(first, 3), (first, 9), (second, 6)]),
                (2, 11557, [(first, 7)]),
                (3, 11557, [(first, 7)]),
                (4, 11560, [(second, 12)]),
                (5, 11560, [(first, 0)]),
            ):
                person = await ApiContestant(http, db).register(DEMO_SLUG, n, commune)
                for round_id, correct in takes:
                    await person.take(round_id, correct)
            # A sixth is in the middle of an attempt when Redis goes.
            late = await ApiContestant(http, db).register(DEMO_SLUG, 6, 11557)
            late_attempt = (await late.start(first))["id"]
            late_key = await answer_key_of(db, late_attempt)
            processes.run("worker", "--burst", env=env)
            assert await db.fetchval("SELECT count(*) FROM attempt WHERE status = 'scored'") == 7

            before = await board_keys(r, rounds, contest_id)
            assert keys.board(first) in before and keys.commune_board(first, 11557) in before
            assert keys.contest_board(contest_id) in before and len(before[keys.ranked(first)]) == 5  # type: ignore[arg-type]
            shown = [f"/api/v1/rounds/{first}/board", f"/api/v1/rounds/{second}/board", f"/api/v1/contests/{DEMO_SLUG}/board"]
            boards_before = [(await http.get(path)).json() for path in shown]

            private_servers.redis.stop()  # no persistence: everything it held is gone
            # While it is down: the boards fail at once with a message; answers and submits still work (PostgreSQL).
            began = time.monotonic()
            page = await http.get(f"/rounds/{first}/board")
            api = await http.get(shown[0])
            assert time.monotonic() - began < 5
            assert page.status_code == 503 and UNAVAILABLE in page.text and page.headers["retry-after"] == "5"
            assert api.status_code == 503 and UNAVAILABLE in api.json()["errors"]["service"]
            for position, (right, _) in late_key.items():
                assert (await late.answer(late_attempt, position, right)).status_code == 204
            submitted = await http.post(f"/api/v1/attempts/{late_attempt}/submit", headers=late.auth, json={})
            assert submitted.status_code == 200 and submitted.json()["status"] == "submitted", submitted.text

            private_servers.redis.start()
            # The app, never restarted, answers from the empty Redis at once (a cache: PostgreSQL still has it all).
            emptied = await http.get(shown[0])
            assert emptied.status_code == 200 and emptied.json()["people"] == 0
            r = await reconnect(r, private_servers.redis.url)
            await rebuilt_identical(r, processes, env, rounds, contest_id, before)
            assert [(await http.get(path)).json() for path in shown] == boards_before

            # A blip: Redis restarts between two requests. The app's pooled connections are stale; the very
            # next request still succeeds (the client reconnects and retries instead of failing it).
            private_servers.redis.stop()
            private_servers.redis.start()
            page = await http.get(f"/rounds/{first}/board")
            assert page.status_code == 200, page.text
            r = await reconnect(r, private_servers.redis.url)
            await rebuilt_identical(r, processes, env, rounds, contest_id, before)
            assert [(await http.get(path)).json() for path in shown] == boards_before

            # The submit made while Redis was down was never lost: the sweep finds it in PostgreSQL.
            Queue(keys.QUEUE_SCORING, connection=redis.Redis.from_url(private_servers.redis.url)).enqueue(
                "contest.scoring.jobs.sweep"
            )
            processes.run("worker", "--burst", env=env)
            result = (await http.get(f"/api/v1/attempts/{late_attempt}/result", headers=late.auth)).json()
            assert (result["status"], result["correct"]) == ("scored", 12)
            assert len(await r.smembers(keys.ranked(first))) == 6
            assert "differences" not in processes.run("leaderboards", "check", env=env)
        assert app.proc is not None and app.proc.poll() is None  # never restarted
    finally:
        await r.aclose()
        await db.close()
