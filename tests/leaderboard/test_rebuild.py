"""Redis is a cache of PostgreSQL: a flushed Redis comes back identical, and the check finds tampering."""

from __future__ import annotations

import os
import subprocess
import sys

from contest import keys
from contest.attempts import finishing, starting
from contest.leaderboard.rebuild import check_contest, check_round, rebuild, rebuild_round
from contest.redis import async_redis
from contest.scoring.queue import kick
from tests.conftest import ROOT
from tests.factories import HAI_PHONG_COMMUNES, RoundCase, answer
from tests.redis_snapshot import redis_snapshot


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contest.cli", "leaderboards", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def scored_round(new_round, clock, worker) -> tuple[RoundCase, dict[int, int]]:  # type: ignore[no-untyped-def]
    """Four people in two communes, one of them twice (a better second attempt), scored by a real worker."""
    case = await new_round(per_topic=2, max_attempts=2)
    people = {}
    for n, commune, results in (
        (1, HAI_PHONG_COMMUNES[0], (3, 6)),
        (2, HAI_PHONG_COMMUNES[1], (5,)),
        (3, HAI_PHONG_COMMUNES[1], (2,)),
        (4, HAI_PHONG_COMMUNES[0], (7,)),
    ):
        me = await case.contestant(n, commune)
        people[n] = me
        for correct in results:
            attempt_id = await starting.start_attempt(me, case.round_id)
            await answer(attempt_id, me, correct)
            clock.advance(seconds=20 + n)
            await finishing.submit(attempt_id, me)
    await kick()
    worker()
    return case, people


async def snapshot(round_id: int) -> dict[str, object]:
    """Every key of the round with its whole content."""
    return await redis_snapshot(async_redis(), keys.round_pattern(round_id))


async def test_a_flushed_redis_comes_back_identical_from_the_rebuild_function(new_round, clock, worker) -> None:
    case, _ = await scored_round(new_round, clock, worker)
    before = await snapshot(case.round_id)
    assert keys.board(case.round_id) in before and keys.commune_board(case.round_id, HAI_PHONG_COMMUNES[1]) in before
    assert (await check_round(case.round_id)).ok
    await async_redis().flushdb()
    assert await snapshot(case.round_id) == {}
    await rebuild_round(case.round_id, quiet=True)
    assert await snapshot(case.round_id) == before
    assert (await check_round(case.round_id)).ok


async def test_a_flushed_redis_comes_back_identical_from_the_command(new_round, clock, worker) -> None:
    case, _ = await scored_round(new_round, clock, worker)
    other, _ = await scored_round(new_round, clock, worker)
    before = {**await snapshot(case.round_id), **await snapshot(other.round_id)}
    await async_redis().flushdb()
    done = cli("rebuild", "--round", str(case.round_id))
    assert done.returncode == 0, done.stderr
    assert f"round {case.round_id}: 5 attempts ranked" in done.stdout
    assert await snapshot(other.round_id) == {}  # only the round asked for
    everything = cli("rebuild")  # every round with scored attempts
    assert everything.returncode == 0, everything.stderr
    assert f"round {other.round_id}: 5 attempts ranked" in everything.stdout
    assert {**await snapshot(case.round_id), **await snapshot(other.round_id)} == before
    checked = cli("check", "--round", str(other.round_id))
    assert checked.returncode == 0 and "matches PostgreSQL" in checked.stdout, checked.stdout + checked.stderr
    everywhere = cli("check")  # every round with scores, and the contest-wide boards
    assert everywhere.returncode == 0, everywhere.stdout + everywhere.stderr
    assert f"contest {case.contest_id}: " in everywhere.stdout and "differences" not in everywhere.stdout


async def test_the_check_reports_a_tampered_board_and_changes_nothing(new_round, clock, worker) -> None:
    case, people = await scored_round(new_round, clock, worker)
    rid, r = case.round_id, async_redis()
    assert (await check_round(rid)).differences == []
    thuy_nguyen, thien_huong = HAI_PHONG_COMMUNES
    await r.zadd(keys.board(rid), {str(people[1]): 12345})  # a wrong score
    await r.zrem(keys.commune_board(rid, thien_huong), str(people[2]))  # a member gone
    await r.zadd(keys.commune_board(rid, thien_huong), {"999999": 1})  # a stranger
    await r.hincrby(keys.attempts(rid), str(thuy_nguyen), 1)  # a wrong counter
    await r.srem(keys.ranked(rid), (await r.smembers(keys.ranked(rid))).pop())
    await r.zadd(keys.commune_board(rid, 99999), {str(people[3]): 1})  # a board nobody should have
    tampered = await snapshot(rid)
    report = await check_round(rid)
    problems = {(d.key, d.problem, d.member) for d in report.differences}
    assert problems >= {
        (keys.board(rid), "wrong", str(people[1])),
        (keys.commune_board(rid, thien_huong), "missing", str(people[2])),
        (keys.commune_board(rid, thien_huong), "extra", "999999"),
        (keys.attempts(rid), "wrong", str(thuy_nguyen)),
        (keys.commune_board(rid, 99999), "extra_key", ""),
    }
    assert any(d.key == keys.ranked(rid) and d.problem == "missing" for d in report.differences)
    assert len(report.differences) == 6 and not report.ok
    assert await snapshot(rid) == tampered  # the check never writes
    failed = cli("check", "--round", str(rid))
    assert failed.returncode != 0 and f"{keys.board(rid)} [{people[1]}]: wrong" in failed.stdout
    await rebuild(rid, quiet=True)
    assert (await check_round(rid)).ok


async def test_the_check_notices_a_deleted_board_and_a_lost_person_count(new_round, clock, worker) -> None:
    case, people = await scored_round(new_round, clock, worker)
    rid, r = case.round_id, async_redis()
    await r.delete(keys.board(rid))
    await r.hset(keys.people(rid), str(HAI_PHONG_COMMUNES[1]), 7)
    await r.zrem(keys.group_board(rid, "citizens"), str(people[4]))
    await r.hincrby(keys.group_attempts(rid), "citizens", -1)
    problems = {(d.key, d.problem) for d in (await check_round(rid)).differences}
    assert problems == {
        (keys.board(rid), "missing_key"),
        (keys.people(rid), "wrong"),
        (keys.group_board(rid, "citizens"), "missing"),
        (keys.group_attempts(rid), "wrong"),
    }


async def test_the_check_compares_the_contest_wide_boards_too(new_round, clock, worker) -> None:
    case, people = await scored_round(new_round, clock, worker)
    r = async_redis()
    assert (await check_contest(case.contest_id)).ok
    await r.zadd(keys.contest_board(case.contest_id), {str(people[2]): 1})
    report = await check_contest(case.contest_id)
    assert [(d.key, d.problem, d.member) for d in report.differences] == [
        (keys.contest_board(case.contest_id), "wrong", str(people[2]))
    ]
