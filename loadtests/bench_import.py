"""Benchmark: importing a 10,000-question xlsx with `contest questions import` (dry run, then the real import).

    .venv/bin/python -m loadtests.bench_import [--questions 10000] [--goal-seconds 60]

Servers as in loadtests.bench_scoring (DATABASE_URL / REDIS_URL: a fresh database, the Redis db FLUSHDB'd;
else private servers under .data/bench/import). Times the whole command, process start included. Then it checks in
SQL that every row of the file is in the bank, once, with its four options and its one correct answer, and that
importing the file again changes nothing. Exits 1 when a check fails or the import takes longer than the goal.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from loadtests.bench_scoring import ROOT, bench_services, machine_line, server_versions

GOAL_SECONDS = 60.0
MARK = "Câu hỏi thử nghiệm số "  # every generated question starts so


def make_file(path: Path, n: int) -> None:
    """n distinct questions over the demo topics, 4 options, Vietnamese text."""
    from openpyxl import Workbook

    from contest.demo import TOPICS
    from contest.questions.transfer import HEADER

    topics = list(TOPICS)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Câu hỏi")
    sheet.append(HEADER)
    for i in range(n):
        sheet.append(
            [
                topics[i % len(topics)],
                1 + i % 3,
                f"Câu hỏi thử nghiệm số {i}: dịch vụ công trực tuyến nào cần tài khoản định danh điện tử mức {i % 7}?",
                f"Phương án thứ nhất {i}",
                f"Phương án thứ hai {i}",
                f"Phương án thứ ba {i}",
                f"Phương án thứ tư {i}",
                "",
                "",
                "ABCD"[i % 4],
                "Giải thích ngắn gọn cho câu hỏi, có dấu tiếng Việt đầy đủ.",
                "thử nghiệm, định danh",
                "có",
            ]
        )
    book.save(path)


def timed(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "contest.cli", "questions", *args], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True)  # fmt: skip
    return time.perf_counter() - start, done


async def bank_checks(n: int) -> tuple[list[tuple[str, str, bool]], str, str]:
    """The imported rows, counted in full in SQL, and the servers' versions."""
    import asyncpg
    import redis.asyncio as aioredis

    from contest.settings import get_settings

    conn = await asyncpg.connect(get_settings().db.url)
    r = aioredis.Redis.from_url(get_settings().redis.url, decode_responses=True)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS questions, count(DISTINCT q.text) AS distinct_texts, "
            "count(*) FILTER (WHERE (SELECT count(*) FROM option o WHERE o.question = q.id) <> 4) AS not_four, "
            "count(*) FILTER (WHERE (SELECT count(*) FROM option o WHERE o.question = q.id AND o.is_correct) <> 1) "
            "AS not_one_correct FROM question q WHERE q.text LIKE $1",
            MARK + "%",
        )
        numbers = await conn.fetchval(
            "SELECT count(DISTINCT split_part(substr(text, length($1) + 1), ':', 1)) FROM question WHERE text LIKE $2",
            MARK,
            MARK + "%",
        )
        pg, rv = await server_versions(conn, r)
    finally:
        await conn.close()
        await r.aclose()
    checks = [
        ("rows of the file in the bank", f"{row['questions']:,} of {n:,}", row["questions"] == n),
        ("each row once (distinct texts, numbers 0..n-1)", f"{row['distinct_texts']:,} texts, {numbers:,} numbers",
         row["distinct_texts"] == numbers == n),
        ("four options each", f"{row['not_four']:,} differ", row["not_four"] == 0),
        ("one correct option each", f"{row['not_one_correct']:,} differ", row["not_one_correct"] == 0),
    ]  # fmt: skip
    return checks, pg, rv


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--goal-seconds", type=float, default=GOAL_SECONDS, help="the real import's time (default 60)")
    args = parser.parse_args(argv)
    n = args.questions
    with bench_services("import") as services:
        print(machine_line())
        path = services.data_dir / f"questions-{n}.xlsx"
        start = time.perf_counter()
        make_file(path, n)
        print(f"file: {n:,} questions, {path.stat().st_size / 1e6:.1f} MB, written in {time.perf_counter() - start:.1f} s")
        noop, _ = timed("--help")
        check, done = timed("import", str(path), "--dry-run")
        if done.returncode:
            sys.exit(done.stderr[-2000:])
        full, done = timed("import", str(path))
        if done.returncode:
            sys.exit(done.stderr[-2000:])
        print(done.stdout.strip())
        again, refused = timed("import", str(path), "--dry-run")
        checks, pg_version, redis_version = asyncio.run(bank_checks(n))
        print("PostgreSQL", pg_version, services.postgres, "| Redis", redis_version, services.redis)
        print(f"`contest questions --help` (process start):  {noop:6.2f} s")
        print(f"import --dry-run (read + check):             {check:6.2f} s")
        print(f"import (read + check + write, 1 transaction): {full:6.2f} s  = {n / full:,.0f} questions/s")
        print(f"re-import refused, {n:,} duplicate rows:     {again:6.2f} s")
        print(f"ratio write/dry-run: {full / check:.2f}")
        checks.append(
            ("a second import refuses every row as a duplicate", f"exit {refused.returncode}",
             refused.returncode != 0 and refused.stderr.count("Dòng ") >= n)
        )  # fmt: skip
        for name, value, good in checks:
            print(f"  {'ok  ' if good else 'FAIL'}  {name:<50}{value}")
        ok, met = all(good for _, _, good in checks), full <= args.goal_seconds
        verdict = "meets" if met else "MISSES"
        print(f"bench_import: {verdict} the goal of {args.goal_seconds:g} s; checks {'ok' if ok else 'FAILED'}")
    sys.exit(0 if ok and met else 1)


if __name__ == "__main__":
    main()
