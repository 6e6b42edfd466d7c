"""Benchmark: answer-save and submit requests/s, each divided by hello-world requests/s (goal >= 0.5).

    .venv/bin/python -m loadtests.bench_requests [--duration 10] [--connections 32] [--submits 16000]

Starts the real web server as `make run` does (`python -m contest.cli web`, CONTEST_PORT = a free port,
CONTEST_RATE_LIMIT=0), seeds contestants with open attempts through the real service
(contest.attempts.starting.start_attempt; contestants themselves by one INSERT), and measures, one phase
after the other at the same concurrency over keep-alive connections:

    GET  /healthz                                   hello world ("ok"), measured before and after
    PUT  /api/v1/attempts/{id}/answers/{position}   {"option_id": a valid option of that item}, spread
                                                    over --answer-attempts attempts x every position
    POST /api/v1/attempts/{id}/submit               each on a distinct open attempt (--submits are seeded;
                                                    when they run out first, the rate is count / time)

The load generator is a lean asyncio HTTP/1.1 client on raw sockets (uvloop when installed, preformatted
request bytes, Content-Length parsing), one request in flight per connection. It prints requests/s,
p50/p99 latency, non-2xx and connection errors per phase, CPU use of server, client and machine, and the
ratios answer/hello and submit/hello (hello = mean of the two hello phases). A run with any error is
invalid and exits 1, and so does a ratio below the goal (`--goal`, default 0.5). No RQ worker runs
meanwhile: submits queue a scoring job as in production, nothing scores it, so the workers do not take CPU
from the web server being measured.

Servers: as loadtests.bench_scoring (DATABASE_URL / REDIS_URL when set, a fresh database on that server,
FLUSHDB of the given Redis db before and after; else private servers under .data/bench/requests).
A benchmark, never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.bench_scoring import (
    _SEED_CONTESTANTS,
    ROOT,
    Services,
    bench_services,
    machine_line,
    nproc,
    server_versions,
    stop_processes,
)

GOAL_RATIO = 0.5

# --------------------------------------------------------------------------- load generator


@dataclass
class PhaseResult:
    name: str
    ok: int = 0  # 2xx within the measured window
    non_2xx: int = 0  # anywhere in the phase (warm-up included)
    conn_errors: int = 0
    total_ok: int = 0  # 2xx anywhere in the phase
    seconds: float = 0.0  # measured window
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    exhausted: bool = False
    cpu_server: float = 0.0  # % of one core
    cpu_client: float = 0.0
    cpu_machine: float = 0.0  # % of all cores

    @property
    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000

    @property
    def errors(self) -> int:
        return self.non_2xx + self.conn_errors


class _Phase:
    """One measured phase: connections ask it for the next request and report each response."""

    def __init__(self, name: str, source: Callable[[], bytes | None], warmup: float, duration: float) -> None:
        self.result = PhaseResult(name)
        self.source = source
        self.start = time.perf_counter()
        self.measure_from = self.start + warmup
        self.end = self.measure_from + duration
        self.last_done = self.measure_from
        self.open = 0
        self.all_closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def next_request(self) -> bytes | None:
        if time.perf_counter() >= self.end:
            return None
        req = self.source()
        if req is None:
            self.result.exhausted = True
        return req

    def record(self, status: int, sent_at: float, head: bytes) -> None:
        now = time.perf_counter()
        r = self.result
        r.statuses[status] = r.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            r.total_ok += 1
            if self.measure_from <= now <= self.end:
                r.ok += 1
                r.latencies.append(now - sent_at)
                self.last_done = now
        else:
            r.non_2xx += 1
            if len(r.error_samples) < 3:
                r.error_samples.append(head[:300].decode(errors="replace"))

    def closed(self, error: str | None) -> None:
        if error is not None:
            self.result.conn_errors += 1
            if len(self.result.error_samples) < 3:
                self.result.error_samples.append(error)
        self.open -= 1
        if self.open == 0 and not self.all_closed.done():
            self.all_closed.set_result(None)


class _Conn(asyncio.Protocol):
    """A keep-alive HTTP/1.1 connection with one request in flight."""

    def __init__(self, phase: _Phase) -> None:
        self.phase = phase
        self.buf = b""
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None
        self.finished = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._send_next()

    def _send_next(self) -> None:
        req = self.phase.next_request()
        if req is None:
            self.finished = True
            self.transport.close()  # type: ignore[union-attr]
            return
        self.sent_at = time.perf_counter()
        self.transport.write(req)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end].lower()
            i = head.find(b"\r\ncontent-length:")
            if i >= 0:
                j = head.find(b"\r\n", i + 17)
                length = int(head[i + 17 : j if j >= 0 else len(head)])
            elif b"transfer-encoding: chunked" in head:
                self.finished = True
                self.phase.closed("chunked responses are not supported by this client")
                self.transport.close()  # type: ignore[union-attr]
                return
            else:
                length = 0
            total = end + 4 + length
            if len(buf) < total:
                break
            status = int(buf[9:12])
            self.phase.record(status, self.sent_at, buf[:total] if not 200 <= status < 300 else b"")
            buf = buf[total:]
            self._send_next()
            if self.finished:
                return
        self.buf = buf

    def connection_lost(self, exc: Exception | None) -> None:
        if self.finished:
            self.phase.closed(None)
        else:
            self.finished = True
            self.phase.closed(f"connection lost: {exc!r}")


def _cpu_ticks(pid: int) -> float:
    """utime + stime of a process, in seconds (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs (Linux /proc/stat)."""
    try:
        values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        return sum(values) - idle, sum(values)
    except (OSError, ValueError, IndexError):
        return 0, 0


async def run_phase(
    name: str, port: int, source: Callable[[], bytes | None], connections: int, warmup: float, duration: float, server_pid: int
) -> PhaseResult:
    loop = asyncio.get_running_loop()
    cpu0_server, cpu0_client, (busy0, total0) = _cpu_ticks(server_pid), time.process_time(), _machine_ticks()
    wall0 = time.perf_counter()
    phase = _Phase(name, source, warmup, duration)
    phase.open = connections
    for _ in range(connections):
        try:
            await loop.create_connection(lambda: _Conn(phase), "127.0.0.1", port)
        except OSError as exc:
            phase.closed(f"connect failed: {exc!r}")
    try:
        await asyncio.wait_for(asyncio.shield(phase.all_closed), warmup + duration + 30)
    except TimeoutError:
        phase.result.conn_errors += phase.open
        phase.result.error_samples.append(f"{phase.open} connection(s) still open 30 s after the end")
    wall = time.perf_counter() - wall0
    busy1, total1 = _machine_ticks()
    r = phase.result
    r.seconds = (min(phase.end, phase.last_done) if r.exhausted else phase.end) - phase.measure_from
    r.cpu_server = 100 * (_cpu_ticks(server_pid) - cpu0_server) / wall
    r.cpu_client = 100 * (time.process_time() - cpu0_client) / wall
    r.cpu_machine = 100 * (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    return r


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


# --------------------------------------------------------------------------- requests


def _get(path: str, port: int) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()


def _with_body(method: str, path: str, port: int, token: str, body: bytes) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


# --------------------------------------------------------------------------- seeding


@dataclass
class Seeded:
    round_id: int
    answer_attempts: list[int]
    submit_attempts: list[int]
    answer_requests: list[bytes]
    submit_requests: list[bytes]
    items: int
    seconds: float


async def seed(n_answer: int, n_submit: int, per_topic: int, port: int, concurrency: int = 8) -> Seeded:
    """Contestants (one INSERT) and one open attempt each through start_attempt, the code a start runs."""
    import json
    from datetime import timedelta

    import asyncpg

    from contest import clock
    from contest.api import auth
    from contest.demo import TOPICS
    from contest.settings import get_settings

    t0 = time.perf_counter()
    now = clock.now()
    conn = await asyncpg.connect(get_settings().db.url)
    try:
        contest_id = await conn.fetchval(
            "INSERT INTO contest (slug, title, description, quotas, time_limit_seconds) "
            "VALUES ($1, 'Benchmark', '', $2::jsonb, 7200) RETURNING id",
            f"bench-req-{os.getpid()}",
            json.dumps({t: per_topic for t in TOPICS}),
        )
        round_id = await conn.fetchval(
            "INSERT INTO round (contest, number, title, opens_at, closes_at, max_attempts) "
            "VALUES ($1, 1, 'Tuần 1', $2, $3, 2) RETURNING id",
            contest_id,
            now - timedelta(hours=1),
            now + timedelta(days=7),
        )
        await conn.execute(_SEED_CONTESTANTS, contest_id, n_answer + n_submit, now)
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM contestant WHERE contest = $1 ORDER BY id", contest_id)]
        # start_attempt costs this process more CPU than PostgreSQL: one seeding process per core.
        # The deadline is 2 h away (time limit 7200 s), far beyond the run.
        procs = max(1, min(nproc(), len(ids) // 1000))
        chunks = [(ids[i::procs], round_id, concurrency) for i in range(procs)]
        with ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [asyncio.wrap_future(pool.submit(_start_attempts, *chunk)) for chunk in chunks]
            started = [pair for part in await asyncio.gather(*futures) for pair in part]
        await conn.execute("VACUUM ANALYZE contestant, attempt, attempt_item")
        random.shuffle(started)
        answer, submit = started[:n_answer], started[n_answer:]
        items = await conn.fetch(
            "SELECT i.attempt, i.position, i.option_ids FROM attempt_item i JOIN attempt a ON a.id = i.attempt "
            "WHERE a.id = ANY($1::bigint[]) AND a.status = 'open'",
            [a for _, a in answer],
        )
    finally:
        await conn.close()
    owner = {a: c for c, a in answer}
    answer_requests = [
        _with_body(
            "PUT",
            f"/api/v1/attempts/{it['attempt']}/answers/{it['position']}",
            port,
            auth.issue(owner[it["attempt"]]),
            f'{{"option_id":{random.choice(it["option_ids"])}}}'.encode(),
        )
        for it in items
    ]
    random.shuffle(answer_requests)
    submit_requests = [_with_body("POST", f"/api/v1/attempts/{a}/submit", port, auth.issue(c), b"{}") for c, a in submit]
    return Seeded(
        round_id,
        [a for _, a in answer],
        [a for _, a in submit],
        answer_requests,
        submit_requests,
        len(items),
        time.perf_counter() - t0,
    )


def _start_attempts(contestants: list[int], round_id: int, concurrency: int) -> list[tuple[int, int]]:
    """In a seeding process: start an attempt for each contestant; returns (contestant, attempt) pairs."""
    from contest.attempts import starting
    from contest.db import engine

    async def main() -> list[tuple[int, int]]:
        await engine().start_connection_pool(min_size=2, max_size=concurrency)
        try:
            sem = asyncio.Semaphore(concurrency)

            async def start(cid: int) -> tuple[int, int]:
                async with sem:
                    return cid, await starting.start_attempt(cid, round_id)

            return list(await asyncio.gather(*(start(cid) for cid in contestants)))
        finally:
            await engine().close_connection_pool()

    return asyncio.run(main())


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_web(port: int, log: Path, extra: list[str] | None = None) -> subprocess.Popen:
    """`contest web` (with `extra` options) on this port, once it answers /healthz."""
    env = os.environ.copy()
    env["CONTEST_PORT"] = str(port)
    env["CONTEST_RATE_LIMIT"] = "0"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "contest.cli", "web", *(extra or [])],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_processes([proc])
            raise RuntimeError(f"the web server did not start; see {log}:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)


# --------------------------------------------------------------------------- main


async def check_db(s: Seeded) -> tuple[int, int]:
    import asyncpg

    from contest.settings import get_settings

    conn = await asyncpg.connect(get_settings().db.url)
    try:
        answered = await conn.fetchval(
            "SELECT count(*) FROM attempt_item WHERE attempt = ANY($1::bigint[]) AND chosen IS NOT NULL",
            s.answer_attempts,
        )
        submitted = await conn.fetchval(
            "SELECT count(*) FROM attempt WHERE id = ANY($1::bigint[]) AND status = 'submitted'", s.submit_attempts
        )
        return answered, submitted
    finally:
        await conn.close()


async def versions() -> tuple[str, str]:
    import asyncpg
    import redis.asyncio as aioredis

    from contest.settings import get_settings

    conn = await asyncpg.connect(get_settings().db.url)
    r = aioredis.Redis.from_url(get_settings().redis.url, decode_responses=True)
    try:
        return await server_versions(conn, r)
    finally:
        await conn.close()
        await r.aclose()


def _row(r: PhaseResult) -> str:
    note = " (ran out of attempts)" if r.exhausted else ""
    return (
        f"  {r.name:<28}{r.rps:>9,.0f}{r.pct(0.5):>9.1f}{r.pct(0.99):>9.1f}{r.ok:>9,}{r.seconds:>7.1f}"
        f"{r.non_2xx:>7}{r.conn_errors:>6}{r.cpu_server:>7.0f}{r.cpu_client:>7.0f}{r.cpu_machine:>6.0f}{note}"
    )


def run(args: argparse.Namespace, services: Services) -> int:
    port = _free_port()
    runner = asyncio.Runner(loop_factory=_new_loop)
    procs: list[subprocess.Popen] = []
    try:
        pg_version, redis_version = runner.run(versions())
        print(f"seeding {args.answer_attempts + args.submits:,} contestants with an open attempt each ...", flush=True)
        s = runner.run(seed(args.answer_attempts, args.submits, args.per_topic, port))
        print(
            f"  {len(s.answer_attempts) + len(s.submit_attempts):,} attempts, {args.per_topic * 4} questions each, "
            f"in {s.seconds:.1f} s",
            flush=True,
        )
        web = start_web(port, services.data_dir / "web.log")
        procs.append(web)
        print(
            f"web server pid {web.pid} on 127.0.0.1:{port}; {args.connections} connections, "
            f"{args.warmup:g} s warm-up + {args.duration:g} s per phase",
            flush=True,
        )

        hello = _get("/healthz", port)
        answers = s.answer_requests
        a_i = 0

        def next_answer() -> bytes:
            nonlocal a_i
            a_i += 1
            return answers[a_i % len(answers)]

        submit_iter = iter(s.submit_requests)

        def phase(name: str, source: Callable[[], bytes | None], warmup: float) -> PhaseResult:
            print(f"  {name} ...", flush=True)
            return runner.run(run_phase(name, port, source, args.connections, warmup, args.duration, web.pid))

        results = [
            phase("GET /healthz", lambda: hello, args.warmup),
            phase("PUT answers/{pos}", next_answer, args.warmup),
            phase("POST submit", lambda: next(submit_iter, None), min(1.0, args.warmup)),
            phase("GET /healthz (again)", lambda: hello, args.warmup),
        ]
        answered, submitted = runner.run(check_db(s))
    finally:
        stop_processes(procs)
        runner.close()

    hello1, answer, submit, hello2 = results
    hello_rps = (hello1.rps + hello2.rps) / 2
    errors = sum(r.errors for r in results)
    submit_ok = submitted == submit.total_ok
    answer_ok = answered > 0
    ok = errors == 0 and submit_ok and answer_ok
    print()
    print("bench_requests: answer-save and submit requests/s over hello-world requests/s, same server, same run")
    print(f"  machine     {machine_line()}")
    print(f"  servers     PostgreSQL {pg_version}: {services.postgres}")
    print(f"              Redis {redis_version}: {services.redis}")
    print("  web         `python -m contest.cli web` (the default server, 1 process), CONTEST_RATE_LIMIT=0, no RQ workers")
    print(
        f"  client      asyncio raw sockets on {_new_loop_name()}, HTTP/1.1 keep-alive, {args.connections} "
        f"connections, 1 request in flight each"
    )
    print(
        f"  seeded      {len(s.answer_attempts):,} attempts for answers ({s.items:,} items), "
        f"{len(s.submit_attempts):,} for submits, {args.per_topic * 4} questions each"
    )
    print(f"  {'-' * 106}")
    print(
        f"  {'phase':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'2xx':>9}{'s':>7}{'non2xx':>7}{'conn':>6}"
        f"{'srv%':>7}{'cli%':>7}{'all%':>6}"
    )
    for r in results:
        print(_row(r))
    print(f"  {'-' * 106}")
    print(f"  hello world (mean of both)  {hello_rps:>9,.0f} req/s")
    met = True
    for name, r in (("answer / hello", answer), ("submit / hello", submit)):
        ratio = r.rps / hello_rps if hello_rps else 0.0
        met = met and ratio >= args.goal
        verdict = "meets goal" if ratio >= args.goal else "BELOW GOAL"
        print(f"  {name:<28}{ratio:>9.2f}   goal >= {args.goal:g}   {verdict}")
    print(f"  (srv% / cli% = CPU of the web process / of this client, % of one core; all% = whole machine, {nproc()} cores)")
    print(f"  {'ok  ' if answer_ok else 'FAIL'}  answers stored: {answered:,} of {s.items:,} items have a choice")
    print(
        f"  {'ok  ' if submit_ok else 'FAIL'}  submits: {submitted:,} attempts submitted = "
        f"{submit.total_ok:,} 2xx submit responses"
    )
    print(f"  {'ok  ' if errors == 0 else 'FAIL'}  errors: {errors} (non-2xx + connection errors, warm-up included)")
    for r in results:
        for sample in r.error_samples:
            print(f"        {r.name}: {sample[:300]!r}")
    print(f"  run {'valid' if ok else 'INVALID'}, goal {'met' if met else 'MISSED'}")
    return 0 if ok and met else 1


def _new_loop_name() -> str:
    try:
        import uvloop  # noqa: F401

        return "uvloop"
    except ImportError:
        return "asyncio"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.bench_requests", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10, help="measured seconds per phase (default 10)")
    parser.add_argument("--warmup", type=float, default=2, help="warm-up seconds per phase (default 2; 1 for submit)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (default 32)")
    parser.add_argument(
        "--answer-attempts", type=int, default=2_000, help="open attempts the answer saves are spread over (default 2000)"
    )
    parser.add_argument("--submits", type=int, default=16_000, help="open attempts seeded for submits (default 16000)")
    parser.add_argument("--per-topic", type=int, default=1, help="questions per topic, 4 topics (default 1)")
    parser.add_argument("--goal", type=float, default=GOAL_RATIO, help=f"answer and submit / hello (default {GOAL_RATIO})")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.answer_attempts, args.submits, args.per_topic) <= 0:
        parser.error("--duration, --connections, --answer-attempts, --submits and --per-topic must be positive")
    # The web process and this one sign and check the same Bearer tokens.
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(16))
    started = time.perf_counter()
    with bench_services("requests") as services:
        code = run(args, services)
    print(f"  total run time {time.perf_counter() - started:.0f} s (setup, seeding, phases, teardown)")
    sys.exit(code)


if __name__ == "__main__":
    main()
