"""Participation counters: the officials' dashboard and the collective rankings read counters kept in Redis as
attempts are ranked and people register; they equal a recount from PostgreSQL, a drift shows in `check` until
`rebuild`, and a job delivered twice counts once."""

from __future__ import annotations

from dataclasses import asdict

import asyncpg

from contest import keys
from contest.contests.tables import Contest
from contest.db import fetch
from contest.leaderboard import counters
from contest.leaderboard.collective import collective, count_collective
from contest.leaderboard.rebuild import check_contest, check_round
from contest.leaderboard.recount import expected_contest_counters
from contest.leaderboard.scope import Scope, contest_scope, round_scope
from contest.people.tables import Commune
from contest.redis import async_redis
from contest.scoring.queue import kick
from contest.scoring.service import rank_ids
from contest.settings import get_settings
from tests.factories import RoundCase
from tests.leaderboard.test_public_boards import THIEN_HUONG, THUY_NGUYEN, person, second_round, take
from tests.leaderboard.test_rebuild import cli
from tests.redis_snapshot import redis_snapshot
from tests.staff.test_signin import sign_in, staff

MEASURES = (keys.PAIR_PEOPLE, keys.PAIR_ATTEMPTS, keys.PAIR_BEST, keys.BEST)
CONTEST_MEASURES = (*MEASURES, keys.REGISTERED, keys.DAY_PEOPLE, keys.DAY_ATTEMPTS)


async def _third_commune() -> int:
    row = await Commune.select(Commune.code).where(Commune.province == 31).order_by(Commune.code).offset(30).first()
    assert row is not None
    return int(row["code"])


async def _taken(new_round, clock, worker) -> tuple[RoundCase, int, dict[str, int]]:  # type: ignore[no-untyped-def]
    """Two rounds taken by six people of three communes and three groups, some twice; one registered, never took part."""
    case = await new_round(per_topic=2, max_attempts=2)
    await Contest.update({Contest.published: True}).where(Contest.id == case.contest_id)
    round2 = await second_round(case, clock.current)
    third = await _third_commune()
    plan = {
        "an": ("teachers", THUY_NGUYEN, [(case.round_id, 3), (case.round_id, 6), (round2, 2)]),
        "binh": ("citizens", THUY_NGUYEN, [(case.round_id, 5)]),
        "cuong": ("students", THIEN_HUONG, [(case.round_id, 1), (round2, 7)]),
        "dung": ("citizens", THIEN_HUONG, [(round2, 4)]),
        "em": ("students", third, [(case.round_id, 0), (case.round_id, 2)]),
        "giang": ("citizens", third, [(case.round_id, 8)]),
    }
    who = {}
    for n, (name, (group, commune, taken)) in enumerate(plan.items(), 1):
        who[name] = await person(case, n, group, commune)
        for round_id, correct in taken:
            await take(round_id, who[name], correct)
    who["hoa"] = await person(case, 9, "citizens", third)  # registered, never took part
    await kick()
    worker()
    return case, round2, who


async def _scopes(case: RoundCase, round2: int) -> list[Scope]:
    scopes = [await round_scope(case.round_id), await round_scope(round2), await contest_scope(case.slug)]
    assert all(s is not None for s in scopes)
    return [s for s in scopes if s is not None]


def _table(result) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return asdict(result)


async def test_the_counters_equal_a_recount_after_rounds_taken_in_several_communes(client, new_round, clock, worker) -> None:
    case, round2, who = await _taken(new_round, clock, worker)
    r = async_redis()
    for round_id in (case.round_id, round2):
        assert (await check_round(round_id)).ok, (await check_round(round_id)).lines()
    report = await check_contest(case.contest_id)
    assert report.ok, report.lines()
    conn = await asyncpg.connect(get_settings().db.url)
    try:
        expected, scored, _ = await expected_contest_counters(conn, case.contest_id)
    finally:
        await conn.close()
    assert scored == 10
    got = await counters.read(r, f"c{case.contest_id}", CONTEST_MEASURES)
    for measure in CONTEST_MEASURES:
        assert got[measure] == expected[keys.tally(f"c{case.contest_id}", measure)][1], measure
    # The views read the counters, and they equal the rankings recounted from PostgreSQL.
    for scope in await _scopes(case, round2):
        assert _table(await collective(scope)) == _table(await count_collective(scope)), scope
    whole = {row.code: row for row in (await collective((await _scopes(case, round2))[2])).communes}
    # Thuỷ Nguyên: An (best 6 over the rounds) and Bình (5); four attempts; best results in sixtieths of a question.
    assert (whole[THUY_NGUYEN].people, whole[THUY_NGUYEN].attempts, whole[THUY_NGUYEN].best_sum) == (2, 4, 11 * 60)
    await sign_in(client, await staff("organiser"))
    summary = (
        await client.get(f"/staff/officials/api/communes/{THIEN_HUONG}/summary", params={"contest": case.contest_id})
    ).json()
    assert (summary["registered"], summary["people"], summary["attempts"], summary["average_best"]) == (2, 2, 3, 5.5)
    overview = (await client.get("/staff/officials/api/summary", params={"contest": case.contest_id})).json()["summary"]
    assert (overview["registered"], overview["people"], overview["attempts"], overview["people_today"]) == (7, 6, 10, 6)
    assert sum(d["attempts"] for d in overview["days"]) == 10


async def test_the_views_follow_the_counters_until_a_rebuild_and_the_check_reports_the_drift(
    client, new_round, clock, worker
) -> None:
    case, round2, who = await _taken(new_round, clock, worker)
    round_view, _, contest_view = await _scopes(case, round2)
    before = _table(await collective(round_view))
    await sign_in(client, await staff("organiser"))
    path = f"/staff/officials/api/communes/{THUY_NGUYEN}/summary"
    shown = (await client.get(path, params={"contest": case.contest_id})).json()
    assert (shown["people"], shown["attempts"]) == (2, 4)

    # Behind Redis's back: Bình's only attempt becomes an organiser's preview in PostgreSQL.
    await fetch("UPDATE attempt SET preview = true WHERE contestant = $1", who["binh"])
    assert _table(await collective(round_view)) == before  # the view reads Redis, not PostgreSQL
    assert _table(await count_collective(round_view)) != before
    again = (await client.get(path, params={"contest": case.contest_id})).json()
    assert (again["people"], again["attempts"]) == (2, 4)
    drift = await check_contest(case.contest_id)
    assert not drift.ok and any(keys.PAIR_PEOPLE in d.key for d in drift.differences)
    checked = cli("check", "--round", str(case.round_id))
    assert checked.returncode == 1 and f"part:{{{case.round_id}}}:{keys.PAIR_PEOPLE}" in checked.stdout

    rebuilt = cli("rebuild", "--round", str(case.round_id))
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert cli("check", "--round", str(case.round_id)).returncode == 0
    assert (await check_contest(case.contest_id)).ok
    assert _table(await collective(round_view)) == _table(await count_collective(round_view)) != before
    assert _table(await collective(contest_view)) == _table(await count_collective(contest_view))
    after = (await client.get(path, params={"contest": case.contest_id})).json()
    assert (after["people"], after["attempts"], after["registered"]) == (1, 3, 2)


async def test_a_scoring_job_delivered_twice_counts_once(new_round, clock, worker) -> None:
    case, round2, _ = await _taken(new_round, clock, worker)
    r = async_redis()
    patterns = [
        *keys.round_pattern(case.round_id),
        *keys.round_pattern(round2),
        *keys.contest_pattern(case.contest_id),
    ]
    once = await redis_snapshot(r, patterns)
    assert once[keys.tally(f"c{case.contest_id}", keys.PAIR_ATTEMPTS)]
    conn = await asyncpg.connect(get_settings().db.url)
    try:
        ids = [row["id"] for row in await conn.fetch("SELECT id FROM attempt WHERE round = ANY($1)", [case.round_id, round2])]
        # What a re-delivered job (or the sweep after a worker died before recording ranked_at) does: rank again.
        assert await rank_ids(conn, r, ids) == 0
        assert await rank_ids(conn, r, list(reversed(ids))) == 0
    finally:
        await conn.close()
    assert await redis_snapshot(r, patterns) == once
    assert (await check_contest(case.contest_id)).ok
