"""Scale-out: two web processes (one on uvicorn, one on granian) and two RQ workers share nothing but PostgreSQL and Redis.

A contestant registers on one process, answers on both, reads the result on the other; a staff member signs in on
one and is known on the other; a rate limit is one budget over both. The boards they build equal those of the same
journey on one process, and Redis matches PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from contest.attempts.tables import Attempt
from contest.commands.processes import SERVERS
from contest.leaderboard import boards, views
from contest.leaderboard.rebuild import check_contest, check_round
from contest.leaderboard.scope import Scope, round_scope
from contest.redis import async_redis
from tests.conftest import ROOT
from tests.factories import HAI_PHONG_COMMUNES, RoundCase, answer_key
from tests.staff.test_signin import PASSWORD, csrf_of, staff

THUY_NGUYEN, THIEN_HUONG = HAI_PHONG_COMMUNES
RATE_LIMIT = 5
# name, group, commune, correct answers of each attempt (4 questions; the best counts)
PEOPLE = {
    1: ("Nguyễn Văn An", "teachers", THUY_NGUYEN, (4,)),
    2: ("Trần Thị Bình", "students", THIEN_HUONG, (3,)),
    3: ("Lê Văn Cường", "teachers", THUY_NGUYEN, (0, 2)),
    4: ("Phạm Thị Dung", "citizens", THIEN_HUONG, (1,)),
}


@dataclass
class Processes:
    a: str
    b: str
    logs: list[str]

    def output(self) -> str:
        return "\n".join(open(path, encoding="utf-8", errors="replace").read()[-3000:] for path in self.logs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def processes() -> Iterator[Processes]:
    """`contest web` on two ports and two `contest worker`s, each in its own process group, always stopped."""
    env = {
        **os.environ,
        "SECRET_KEY": "scale-out-test: one secret for every process",
        "CONTEST_RATE_LIMIT": str(RATE_LIMIT),
        "CONTEST_FORWARDED_ALLOW_IPS": "127.0.0.1",  # the test client plays the proxy: X-Forwarded-For is believed
        "CONTEST_HOST": "127.0.0.1",
    }
    ports = [_free_port(), _free_port()]
    # One web process on each HTTP server `contest web --server` offers: the same app, the same behaviour.
    commands: list[tuple[list[str], dict[str, str]]] = [
        (["web", "--server", server], {"CONTEST_PORT": str(port)}) for server, port in zip(SERVERS, ports, strict=True)
    ]
    commands += [(["worker"], {}), (["worker"], {})]
    started: list[subprocess.Popen] = []
    logs: list[str] = []
    try:
        for command, extra in commands:
            with tempfile.NamedTemporaryFile("wb", prefix=f"scale-out-{command[0]}-", suffix=".log", delete=False) as log:
                logs.append(log.name)
                started.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "contest.cli", *command],
                        cwd=ROOT,
                        env={**env, **extra},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        found = Processes(urls[0], urls[1], logs)
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                assert all(p.poll() is None for p in started), found.output()
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start\n{found.output()}"
                time.sleep(0.1)
        yield found
    finally:
        for p in started:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in started:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        for path in logs:
            os.unlink(path)


def browser(address: str) -> httpx.AsyncClient:
    """One person's phone: its own cookies, its own address (seen through X-Forwarded-For)."""
    return httpx.AsyncClient(headers={"x-forwarded-for": address}, timeout=20)


async def take_part(case: RoundCase, n: int, sites: list[str], address: str) -> list[int]:
    """Register, start, answer and submit every attempt of person n, each request on the next site in turn."""
    name, group, commune, results = PEOPLE[n]
    turn = iter(sites * 100)
    attempts = []
    async with browser(address) as phone:
        page = await phone.get(f"{next(turn)}/c/{case.slug}/register")
        token = csrf_of(page.text)
        form = {
            "full_name": name,
            "phone": f"0987{case.round_id % 1000:03d}{n:03d}",
            "birth_year": "1980",
            "province": "31",
            "commune": str(commune),
            "group": group,
            "consent": "yes",
        }
        done = await phone.post(f"{next(turn)}/c/{case.slug}/register", data={"_csrf_token": token, **form})
        assert done.status_code == 302, done.text[:500]
        for correct in results:
            started = await phone.post(f"{next(turn)}/rounds/{case.round_id}/start", data={"_csrf_token": token})
            assert started.status_code == 302, started.text[:500]
            attempt_id = int(started.headers["location"].rsplit("/", 1)[1])
            key = await answer_key(attempt_id)
            for position, (right, wrong) in sorted(key.items()):
                chosen = right if position <= correct else wrong[0]
                saved = await phone.post(
                    f"{next(turn)}/attempts/{attempt_id}/answers/{position}",
                    data={"option": str(chosen)},
                    headers={"x-csrftoken": token, "hx-request": "true"},
                )
                assert saved.status_code == 200 and "✓" in saved.text, saved.text[:500]
            submitted = await phone.post(f"{next(turn)}/attempts/{attempt_id}/submit", data={"_csrf_token": token})
            assert submitted.status_code in (200, 302), submitted.text[:500]
            attempts.append(attempt_id)
        # The result, read on the next site, once a worker has scored and ranked the last attempt.
        reader = next(turn)
        deadline = time.monotonic() + 30
        while True:
            polled = await phone.get(f"{reader}/attempts/{attempts[-1]}/result/status", headers={"hx-request": "true"})
            if "Xếp hạng chung" in polled.text:
                break
            assert time.monotonic() < deadline, f"attempt {attempts[-1]} was never ranked"
            await asyncio.sleep(0.2)
        assert f"{results[-1]}/4" in polled.text
    return attempts


async def standings(case: RoundCase) -> dict[str, object]:
    """What the public and the rankings see of a round and its contest, less what differs by the clock (durations)."""
    one_round = await round_scope(case.round_id)
    contest = Scope(case.contest_id, case.slug, "")
    assert one_round is not None
    out: dict[str, object] = {}
    for label, scope in (("round", one_round), ("contest", contest)):
        for commune, group in ((None, None), (THUY_NGUYEN, None), (THIEN_HUONG, None), (None, "teachers"), (None, "students")):
            rows, total = await views.board_rows(scope, commune, group)
            out[f"{label} {commune} {group}"] = (total, [(r.rank, r.name, r.phone, r.commune, r.correct) for r in rows])
    out["participation"] = await boards.participation(async_redis(), case.round_id)
    out["groups"] = await boards.group_participation(async_redis(), case.round_id)
    return out


async def scores(attempt_ids: list[int]) -> list[tuple[str, int]]:
    rows = await Attempt.select(Attempt.status, Attempt.correct).where(Attempt.id.is_in(attempt_ids)).order_by(Attempt.id)
    return [(row["status"], row["correct"]) for row in rows]


async def test_a_journey_over_two_processes_builds_the_boards_one_process_builds(processes, new_round) -> None:
    spread, single = await new_round(per_topic=1, max_attempts=2), await new_round(per_topic=1, max_attempts=2)
    sites = [processes.a, processes.b]
    spread_attempts = await asyncio.gather(
        *(take_part(spread, n, sites if n % 2 else sites[::-1], f"198.51.100.{n}") for n in PEOPLE)
    )
    single_attempts = await asyncio.gather(*(take_part(single, n, [processes.a], f"198.51.100.{10 + n}") for n in PEOPLE))

    assert [await scores(ids) for ids in spread_attempts] == [await scores(ids) for ids in single_attempts]
    assert await standings(spread) == await standings(single)
    for case in (spread, single):
        assert (await check_round(case.round_id)).ok and (await check_contest(case.contest_id)).ok
    board = httpx.get(f"{processes.b}/rounds/{spread.round_id}/board")
    assert board.status_code == 200 and board.text.index("Nguyễn V. A.") < board.text.index("Trần T. B.")


async def test_a_staff_session_started_on_one_process_is_known_on_the_other(processes) -> None:
    email = await staff("organiser")
    async with browser("198.51.100.200") as desk:
        page = await desk.get(f"{processes.a}/staff/login")
        form = {"_csrf_token": csrf_of(page.text), "email": email, "password": PASSWORD, "next": "/staff/"}
        signed = await desk.post(f"{processes.a}/staff/login", data=form)
        assert signed.status_code == 302 and signed.headers["location"] == "/staff/"
        home = await desk.get(f"{processes.b}/staff/")
        assert home.status_code == 200 and "Ngân hàng câu hỏi" in home.text
    async with browser("198.51.100.201") as stranger:
        assert (await stranger.get(f"{processes.b}/staff/")).status_code == 302


async def test_a_rate_limit_is_one_budget_over_both_processes(processes, new_round) -> None:
    case = await new_round()
    async with browser("203.0.113.9") as crowd:
        token = csrf_of((await crowd.get(f"{processes.a}/c/{case.slug}/register")).text)
        codes = []
        for n in range(RATE_LIMIT + 1):
            form = {
                "full_name": "Đỗ Văn Hùng",
                "phone": f"0978{case.round_id % 1000:03d}{n:03d}",
                "birth_year": "1975",
                "province": "31",
                "commune": str(THUY_NGUYEN),
                "group": "citizens",
                "consent": "yes",
                "_csrf_token": token,
            }
            site = processes.a if n % 2 else processes.b
            codes.append((await crowd.post(f"{site}/c/{case.slug}/register", data=form)).status_code)
        assert codes == [302] * RATE_LIMIT + [429]
    async with browser("203.0.113.10") as other:  # another address has a budget of its own
        token = csrf_of((await other.get(f"{processes.a}/c/{case.slug}/register")).text)
        lone = await other.post(f"{processes.b}/c/{case.slug}/register", data={"_csrf_token": token, "full_name": "X"})
        assert lone.status_code == 422

    # At the same moment on both processes: still exactly the budget (a read-then-write counter lets more through).
    async with browser("203.0.113.11") as burst:
        answers = await asyncio.gather(
            *(burst.get(f"{(processes.a, processes.b)[i % 2]}/rounds/{case.round_id}/board/me") for i in range(4 * RATE_LIMIT))
        )
    assert sum(1 for r in answers if r.status_code != 429) == RATE_LIMIT
    assert all(re.fullmatch(r"\d+", r.headers.get("ratelimit-remaining", "")) for r in answers)
