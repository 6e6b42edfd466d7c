"""Boards scored before points (correct answers | ms | seconds) are rebuilt once by `contest migrate`, which then
leaves them alone."""

from __future__ import annotations

import os
import subprocess
import sys

from contest import keys
from contest.leaderboard import scorecode
from contest.leaderboard.rebuild import check_contest, check_round
from contest.redis import async_redis
from tests.conftest import ROOT
from tests.leaderboard.test_rebuild import scored_round


def _old_layout(correct: int, duration_ms: int, after_open_s: int) -> int:
    """A score as the boards held it before points: correct (7 bits) | ms (23 bits) | seconds (23 bits)."""
    field = 2**23 - 1
    return (correct << 46) | ((field - duration_ms) << 23) | (field - after_open_s)


def _migrate() -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contest.cli", "migrate"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_migrate_rebuilds_boards_left_in_the_old_layout_once(new_round, clock, worker) -> None:
    case, people = await scored_round(new_round, clock, worker)
    r = async_redis()
    board = keys.board(case.round_id)
    # As an upgrade finds them: every score in the old layout, no layout recorded.
    await r.zadd(board, {str(member): _old_layout(3, 60_000, 10) for member in people.values()})
    await r.delete(keys.SCORE_LAYOUT)
    assert not (await check_round(case.round_id)).ok

    done = _migrate()
    assert done.returncode == 0, done.stderr
    assert f"round {case.round_id}:" in done.stdout
    assert (await check_round(case.round_id)).ok and (await check_contest(case.contest_id)).ok
    assert await r.get(keys.SCORE_LAYOUT) == str(scorecode.LAYOUT)

    again = _migrate()  # the layout is recorded: nothing is rebuilt a second time
    assert again.returncode == 0 and "attempts ranked" not in again.stdout
