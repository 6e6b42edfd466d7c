"""Benchmark: importing a 10,000-question xlsx with `contest questions import` (dry run, then the real import).

    .venv/bin/python -m loadtests.bench_import [--questions 10000]

Servers as in loadtests.bench_scoring (DATABASE_URL / REDIS_URL: a fresh database, the Redis db FLUSHDB'd;
else private servers under .data/bench/import). Times the whole command, process start included.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from loadtests.bench_scoring import ROOT, bench_services, machine_line


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10_000)
    n = parser.parse_args().questions
    with bench_services("import") as services:
        print(machine_line())
        print("PostgreSQL:", services.postgres, "| Redis:", services.redis)
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
        assert refused.returncode != 0 and refused.stderr.count("Dòng ") >= n, "a re-import must report every row as a duplicate"
        print(f"`contest questions --help` (process start):  {noop:6.2f} s")
        print(f"import --dry-run (read + check):             {check:6.2f} s")
        print(f"import (read + check + write, 1 transaction): {full:6.2f} s  = {n / full:,.0f} questions/s")
        print(f"re-import refused, {n:,} duplicate rows:     {again:6.2f} s")
        print(f"ratio write/dry-run: {full / check:.2f}")


if __name__ == "__main__":
    main()
