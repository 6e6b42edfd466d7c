"""The load test runner: its checks catch what they are for, and a short real run passes end to end.

The smoke run starts a whole system of its own (private PostgreSQL and Redis, web server, RQ worker, cron) with
`python -m loadtests.run_load`, so it never touches the suite's database or Redis.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from loadtests.run_load import Row, add_record, allowed, lost_values, phantom_values, read_ledger, stats_checks
from tests.conftest import ROOT


def test_only_the_last_acknowledged_answer_or_a_later_unanswered_one_may_be_stored() -> None:
    assert allowed([(11, False)]) is None  # never acknowledged: no promise was made
    assert allowed([(11, True), (12, True)]) == {12}
    # The reply to the change never came (the run ended, the connection broke): either may be stored.
    assert allowed([(11, True), (12, False)]) == {11, 12}
    sent = {(1, 1): [(11, True)], (1, 2): [(21, True), (22, False)], (1, 3): [(31, False)]}
    assert lost_values(sent, {(1, 1): 11, (1, 2): 22, (1, 3): None}, "answer") == (2, [])
    checked, lost = lost_values(sent, {(1, 1): None, (1, 2): 23}, "answer")
    assert checked == 2 and len(lost) == 2 and "database has None" in lost[0]
    assert phantom_values(sent, {(1, 1): 11, (1, 4): 41}, "answer") == ["answer (1, 4): database has 41, never sent"]


def test_the_ledger_is_read_back_in_order(tmp_path: Path) -> None:
    lines = [
        ["start", 7, 1.0, 3],
        ["answer", 7, 1, 70, 1],
        ["answer", 7, 1, 71, 0],
        ["prediction", 7, 5000, 1],
        ["submit", 7, 1],
        ["ran_out", 8],
        ["result", 7, 4, 0],
    ]
    (tmp_path / "ledger-1.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + '\n["answer", 7, 2', encoding="utf-8")
    sent = read_ledger(tmp_path)
    assert sent.answers == {(7, 1): [(70, True), (71, False)]} and sent.predictions == {7: [(5000, True)]}
    assert sent.started == {7: 3} and sent.submitted == {7} and sent.ran_out == {8} and sent.results == {7: (4, False)}
    assert sent.bad_lines == 1  # the last line was cut off
    add_record(sent, "submit", [9, 0])
    assert 9 in sent.submit_sent and 9 not in sent.submitted


def test_a_failure_or_a_slow_request_type_fails_the_run() -> None:
    fast = Row("PUT", "/api/v1/attempts/[id]/answers/[pos]", 1000, 0, 5, 40, 90, 10, 120)
    slow = Row("GET", "/rounds/[id]/board", 100, 0, 300, 700, 900, 1, 1000)
    result = Row("RESULT", "submit → result ready", 50, 1, 1000, 2000, 3000, 1, 3000)
    assert all(c.ok for c in stats_checks([fast], 500))
    failed, too_slow = stats_checks([fast, slow, result], 500)
    assert not failed.ok and "RESULT submit → result ready: 1 of 50" in failed.problems
    # RESULT metrics include the poll interval; the p95 limit is for HTTP requests only.
    assert not too_slow.ok and too_slow.problems == ["GET /rounds/[id]/board: p95 700 ms"]
    assert not stats_checks([], 500)[0].ok  # no requests at all is no proof


def _run_load(tmp_path: Path, options: str) -> Path:
    """A short run_load on private servers; its out folder once it passed."""
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    done = subprocess.run(
        [sys.executable, "-m", "loadtests.run_load", *options.split(), "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "run_load: PASS" in done.stdout
    return out


def test_a_short_spike_runs_end_to_end_with_every_check_passing(tmp_path: Path) -> None:
    # 28 s, 20 users; a busy shared machine, so this run proves the pipeline and the data, not the speed (p95 3 s).
    out = _run_load(
        tmp_path,
        "--users 20 --spawn-rate 10 --duration 28 --shape spike --spike-seconds 8 --think 0.2 --grace 2 --sweep 1 "
        "--officials 2 --web-workers 1 --workers 1 --p95-ms 3000 --database-url private --redis-url private",
    )
    for name in ("report.html", "report.txt", "summary.json", "locust_stats.csv", "locust_stats_history.csv", "cpu.csv"):
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] and summary["facts"]["answers_acknowledged"] > 0 and summary["facts"]["auto_submitted"] > 0
    assert list((out / "ledger").glob("ledger-*.jsonl"))


def test_a_short_opening_runs_end_to_end_with_contestants_waiting_in_the_servers_line(tmp_path: Path) -> None:
    # 20 people within 3 s of the opening, 2 starts let in a second: most wait in line (202), none fails.
    out = _run_load(
        tmp_path,
        "--users 20 --duration 28 --shape opening --spike-seconds 3 --start-rate 2 --think 0.2 --grace 2 --sweep 1 "
        "--officials 2 --web-workers 1 --workers 1 --p95-ms 3000 --database-url private --redis-url private",
    )
    stats = (out / "locust_stats.csv").read_text(encoding="utf-8")
    assert "/api/v1/rounds/[id]/attempts/queue" in stats and "start → let in (line at the opening)" in stats
    assert "/api/v1/attempts/[id]/result (held)" in stats
