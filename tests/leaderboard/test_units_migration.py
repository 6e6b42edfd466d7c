"""The units migration on a contest stored before it: everyone keeps their commune as their collective, the contest
ranks communes, and `contest leaderboards check` finds its boards and counters identical."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from contest.servers import scratch_database
from tests.conftest import ROOT


def test_the_migration_keeps_an_existing_contests_boards_identical() -> None:
    with scratch_database(os.environ["DATABASE_URL"], f"contest_units_migration_{os.getpid()}") as url:
        done = subprocess.run(
            [sys.executable, "-m", "tests.leaderboard.before_units"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["keys"] >= 10  # boards per round, commune and group, counters, the contest's: all there before
    assert found["round_ok"] and found["contest_ok"] and found["identical"], found
    assert found["collectives"] == ["communes"] and found["moved"] == [{"n": 0}]
