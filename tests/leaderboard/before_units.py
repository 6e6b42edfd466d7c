"""Run by tests/leaderboard/test_units_migration.py in a subprocess, on a database of its own (DATABASE_URL):

1. migrate up to the last migration before units (2026-12-04T16:00);
2. an existing contest as the code before units stored it: contestants with communes, scored attempts, ranked onto
   the Redis boards by that code's own query (`p.commune`), registrations counted per commune;
3. apply the units migration;
4. print, as JSON, whether `contest leaderboards check` finds the boards and counters as PostgreSQL says they should
   be, and whether every Redis key of the round and the contest is still what it was.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta

os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")

BEFORE_UNITS = "2026-12-04T16:00:00:000000"
# Ids far from those of the test database (the Redis database is shared with it).
FIRST_ID = 7_000_001


async def main() -> dict:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    from contest import db, keys
    from contest.leaderboard import counters
    from contest.leaderboard.rebuild import check_contest, check_round
    from contest.people.service import load_communes
    from contest.redis import async_redis
    from contest.scoring import service as scoring
    from tests.redis_snapshot import redis_snapshot

    assert (await run_forwards(app_name="contest", migration_id=BEFORE_UNITS, fake=False)).success
    assert not await db.raw("SELECT 1 FROM information_schema.columns WHERE table_name = 'contestant' AND column_name = 'unit'")
    await load_communes([31])
    for table in ("contest", "round", "contestant", "attempt"):
        await db.raw(f"ALTER SEQUENCE {table}_id_seq RESTART WITH {FIRST_ID}")
    now = datetime.now(UTC)
    contest_id = (await db.raw("INSERT INTO contest (slug, title) VALUES ('cu', 'Cuộc thi cũ') RETURNING id"))[0]["id"]
    round_id = (
        await db.raw(
            "INSERT INTO round (contest, number, title, opens_at, closes_at) VALUES ({}, 1, 'Tuần 1', {}, {}) RETURNING id",
            contest_id,
            now - timedelta(hours=2),
            now + timedelta(days=2),
        )
    )[0]["id"]
    r = async_redis()
    attempts = []
    for n, (commune, group, results) in enumerate(
        ((11560, "citizens", (30, 45)), (11557, "officials", (50,)), (11557, "citizens", (20,)), (11560, "students", ()))
    ):
        person = (
            await db.raw(
                'INSERT INTO contestant (contest, full_name, phone, birth_year, commune, "group", consented_at, created_at) '
                "VALUES ({}, {}, {}, 1990, {}, {}, {}, {}) RETURNING id",
                contest_id,
                f"Người {n}",
                f"091200000{n}",
                commune,
                group,
                now,
                now,
            )
        )[0]["id"]
        await counters.count_registration(r, contest_id, commune, group)  # as registration counted it
        for k, points in enumerate(results):
            started = now - timedelta(minutes=90 - 10 * n - k)
            attempts += await db.raw(
                "INSERT INTO attempt (round, contestant, status, started_at, deadline, submitted_at, correct, points, total, "
                "duration_ms, scored_at) VALUES ({}, {}, 'scored', {}, {}, {}, {}, {}, 10, {}, {}) RETURNING id",
                round_id,
                person,
                started,
                started + timedelta(minutes=10),
                started + timedelta(minutes=3),
                points // 10,
                points,
                180_000 - 1000 * n,
                now,
            )
    # Ranked as the scoring worker did before units: the contestant's commune straight from the row.
    old_query = scoring._FOR_RANKING_SQL.replace("p.collective AS commune", "p.commune")
    assert old_query != scoring._FOR_RANKING_SQL
    scoring._FOR_RANKING_SQL = old_query
    conn = await db.engine().get_new_connection()
    try:
        await scoring.rank_ids(conn, r, [a["id"] for a in attempts])
    finally:
        await conn.close()
    patterns = [*keys.round_pattern(round_id), *keys.contest_pattern(contest_id)]
    before = await redis_snapshot(r, patterns)

    assert (await run_forwards(app_name="contest", migration_id="all", fake=False)).success
    found = {
        "round_ok": (await check_round(round_id)).ok,
        "contest_ok": (await check_contest(contest_id)).ok,
        "identical": await redis_snapshot(r, patterns) == before,
        "keys": len(before),
        "collectives": [row["collectives"] for row in await db.raw("SELECT collectives FROM contest")],
        "moved": await db.raw("SELECT count(*) AS n FROM contestant WHERE collective IS DISTINCT FROM commune"),
    }
    for key in before:
        await r.delete(key)
    return found


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main()), default=str))
