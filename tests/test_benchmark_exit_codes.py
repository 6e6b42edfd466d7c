"""Benchmarks that can fail: each one, run at a tiny size with its goal set out of reach, exits 1 and says which goal it
missed, while its own checks of what it produced pass (so the exit code is the goal's). The big runs are the
lead engineer's (BENCHMARKS.md); these take 5-20 s each, most of it migrating a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def bench(module: str, *args: str) -> subprocess.CompletedProcess:
    # A fresh database on the suite's server (dropped after), and a private Redis: a benchmark FLUSHDBs the Redis
    # database it is given, which is the suite's.
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.run(
        [sys.executable, "-m", f"loadtests.{module}", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def test_bench_certificates_exits_1_when_a_goal_is_missed_though_every_check_passes() -> None:
    done = bench("bench_certificates", "--render", "2", "--award", "30", "--goal-pdfs", "1e9")
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "MISSES the goal of 1e+09 PDFs/s" in out and "meets the goal of PDF <= 120 KB each" in out
    assert "award: meets the goal of 120 s; checks ok" in out and "FAIL " not in out
    assert "(name in the text layer)" in out and "checks: 1 PDFs" in out and ": ok" in out
    assert "PostgreSQL" in out and "Redis" in out  # the servers' versions beside the figures
    assert out.rstrip().endswith("bench_certificates: FAIL")


def test_bench_scoring_exits_1_below_its_goal_with_every_attempt_recounted() -> None:
    done = bench("bench_scoring", "--attempts", "30", "--contestants", "20", "--workers", "1", "--goal", "1e9")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "every attempt: correct = SQL recount" in done.stdout and "30 recounted, 0 differ" in done.stdout
    assert "board score = best attempt (all 20 people)      20/20" in done.stdout
    assert "BELOW GOAL" in done.stdout and "verification ok" in done.stdout and "FAIL " not in done.stdout


def test_bench_requests_exits_1_below_its_goal() -> None:
    done = bench(
        "bench_requests", "--duration", "0.3", "--warmup", "0.1", "--connections", "2", "--answer-attempts", "10",
        "--submits", "40", "--goal", "1e9",
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BELOW GOAL" in done.stdout and "run valid, goal MISSED" in done.stdout


def test_bench_import_checks_the_bank_and_exits_1_past_its_goal() -> None:
    done = bench("bench_import", "--questions", "20", "--goal-seconds", "0")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "rows of the file in the bank                      20 of 20" in done.stdout
    assert "MISSES the goal of 0 s; checks ok" in done.stdout
