"""Benchmark: every public page and API read the crowd opens at the close, requests/s over a bare Litestar hello.

    .venv/bin/python -m loadtests.bench_pages [--duration 5] [--connections 64] [--goal 0.5] [--healthz-goal 0.8]
        [--servers uvicorn granian] [--only PART ...] [--profile DIR] [--web-workers 1]

Starts two servers with the same command, `python -m contest.cli web` (the server `make run` uses, one process
each unless --web-workers): the bare one-route app `Litestar([healthz])` (`hello_app` below) and the real app
on a seeded database. Then it measures with wrk (Debian's `wrk`, HTTP/1.1 keep-alive, --connections connections,
one thread, `Accept-Encoding: br, gzip` as a browser sends) each page for --duration seconds, interleaved with
the bare hello: hello, three pages, hello, three pages, ... hello, so that each page is divided by the mean of
the two hello figures around it (the machine's noise moves both). It prints requests/s, p50/p99, the server's
CPU and the ratio per page, and exits 1 when a page misses its goal (crowd pages --goal, default 0.5; the app's
/healthz --healthz-goal, default 0.8) or any response was not 2xx.

--servers uvicorn granian: both apps under each `contest web --server`, every route measured on each server back
to back, a table per server and the real app's req/s side by side. --only PART...: only the routes containing
one of the texts. --profile DIR: py-spy samples the app during each route (collapsed stacks in DIR) and the
table says where the time went. wrk missing: the script stops with the install hint (apt-get install wrk).

Data: as loadtests.bench_scoring (DATABASE_URL / REDIS_URL when set: a fresh database on that server, FLUSHDB
of the given Redis db before and after; else private servers under .data/bench/pages), the demo, and two seeded
contests (loadtests.bench_scoring.seed): one open, with --attempts scored attempts of --contestants people on
its boards; one closed, its results computed and published through contest.results.service.
A benchmark, never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from litestar import Litestar

from contest.commands.processes import SERVER, SERVERS
from loadtests.bench_requests import _free_port, start_web
from loadtests.bench_scoring import (
    Services,
    bench_services,
    machine_line,
    nproc,
    seed,
    server_versions,
    stop_processes,
)
from loadtests.run_load import _proc_table

CROWD_GOAL = 0.5
HEALTHZ_GOAL = 0.8
PAGES_PER_HELLO = 3
HELLO = "loadtests.bench_pages:hello_app"
WRK_HINT = "wrk is not installed: `sudo apt-get install wrk` (Debian/Ubuntu), then run this again"


def hello_app() -> Litestar:
    """The ceiling: Litestar with the app's own /healthz handler and nothing else."""
    from contest.app import healthz

    return Litestar([healthz])


# --------------------------------------------------------------------------- data


@dataclass
class Site:
    slug: str  # the open contest
    round_id: int
    commune: int  # a commune with people on the board
    closed_round: int  # its results published
    province: int


async def prepare(attempts: int, contestants: int) -> Site:
    """Two seeded contests: an open one with scored attempts on its boards, a closed one with published results."""
    import json

    import asyncpg

    from contest.demo import DEMO_PRIZES, HAI_PHONG
    from contest.redis import async_redis
    from contest.results import service as results
    from contest.scoring.service import score_pending
    from contest.settings import get_settings
    from contest.staff.accounts import create_staff
    from contest.staff.signin import staff_user

    settings = get_settings()
    conn = await asyncpg.connect(settings.db.url)
    try:
        closed = await seed(conn, max(100, attempts // 10), max(50, contestants // 10))
        await conn.execute("UPDATE contest SET slug = slug || '-closed' WHERE id = $1", closed.contest_id)
        await conn.execute(
            "UPDATE round SET closes_at = now() - interval '1 minute', prizes = $2::jsonb WHERE id = $1",
            closed.round_id,
            json.dumps(DEMO_PRIZES),
        )
        opened = await seed(conn, attempts, contestants)
        await score_pending(conn, async_redis(), settings.contest.scoring_batch, max_seconds=3600)
        organiser = await staff_user(await create_staff("bench-pages@haiphong.gov.vn", "Ban tổ chức", "organiser"), 0)
        assert organiser is not None
        await results.compute_results(organiser, closed.round_id)
        await results.publish(organiser, closed.round_id)
        slug = await conn.fetchval("SELECT slug FROM contest WHERE id = $1", opened.contest_id)
        commune = await conn.fetchval(
            "SELECT p.commune FROM attempt a JOIN contestant p ON p.id = a.contestant WHERE a.round = $1 "
            "GROUP BY p.commune ORDER BY count(*) DESC LIMIT 1",
            opened.round_id,
        )
    finally:
        await conn.close()
    return Site(slug, opened.round_id, commune, closed.round_id, HAI_PHONG)


def pages(site: Site) -> list[str]:
    """What the crowd opens at the close: the pages, their live fragments and the API's reads."""
    s, r = site.slug, site.round_id
    return [
        "/",
        f"/c/{s}",
        f"/c/{s}/the-le",
        f"/rounds/{r}/board",
        f"/rounds/{r}/board/live",
        f"/rounds/{r}/board?commune={site.commune}",
        f"/rounds/{r}/communes",
        f"/c/{s}/board",
        f"/c/{s}/board/live",
        f"/c/{s}/communes",
        f"/results/{site.closed_round}",
        "/api/v1/contests",
        f"/api/v1/contests/{s}",
        f"/api/v1/rounds/{r}/board",
        f"/api/v1/contests/{s}/board",
        f"/api/v1/provinces/{site.province}/communes",
    ]


# --------------------------------------------------------------------------- wrk


@dataclass
class Measure:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx responses + socket errors
    cpu_server: float  # % of one core
    ratio: float = 0.0
    goal: float | None = None
    profile: str = ""


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    return float(m[1]) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[m[2]]


def parse_wrk(out: str) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, errors) from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(n) for n in sock.groups())
    if rps is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    return float(rps[1]), _ms(p50[1]) if p50 else float("nan"), _ms(p99[1]) if p99 else float("nan"), errors


def _tree_cpu(root: int) -> float:
    """CPU seconds of a process and all its descendants (a server's worker processes)."""
    table = _proc_table()
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, (_, parent, _, _) in table.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(table[pid][2] for pid in tree if pid in table) / os.sysconf("SC_CLK_TCK")


# Where a request's time goes, by the frames on its stack (the first that matches names the share).
PROFILE_SHARES = (
    ("templates", ("jinja2", "templates/")),
    ("PostgreSQL", ("asyncpg", "piccolo")),
    ("Redis", ("redis/",)),
    ("compression", ("brotli", "gzip", "zlib")),
    ("sending", ("wrapped_send",)),  # handing the response to the server (the last Python frame before it)
    ("middleware", ("litestar/middleware", "contest/security", "contest/compression")),
    ("serialisation", ("msgspec", "encode_json", "serialization")),
)


def _py_spy() -> str | None:
    """py-spy on the PATH, or beside this Python (the venv's bin/, not on the PATH when called as .venv/bin/python)."""
    return shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def profile_summary(raw: str) -> str:
    """One line from py-spy's collapsed stacks: shares of samples by kind (the frame nearest the leaf that names a
    kind; a sample with no Python frame is the server's own native code), and the busiest own-time frames."""
    kinds: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        kind = "server (native)" if not frames else "handler"
        for frame in reversed(frames):
            found = next((k for k, marks in PROFILE_SHARES if any(m in frame for m in marks)), None)
            if found:
                kind = found
                break
        kinds[kind] = kinds.get(kind, 0) + n
        if frames:
            leaves[frames[-1]] = leaves.get(frames[-1], 0) + n
    if not total:
        return "no samples"
    shares = ", ".join(f"{k} {100 * v / total:.0f}%" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
    top = "; ".join(f"{k[:60]} {100 * v / total:.0f}%" for k, v in sorted(leaves.items(), key=lambda kv: -kv[1])[:3])
    return f"{shares} | top: {top}"


def wrk(url: str, duration: float, connections: int, server_pid: int, name: str, profile: Path | None = None) -> Measure:
    spy = None
    if profile is not None:  # py-spy samples the server (and its worker processes) while wrk runs
        spy = subprocess.Popen(
            [
                _py_spy() or "py-spy", "record", "--pid", str(server_pid), "--subprocesses",
                "--duration", str(max(1, int(duration))), "--nonblocking", "--nolineno", "--format", "raw",
                "-o", str(profile),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    cmd = [
        "wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "10s",
        "-H", "Accept-Encoding: br, gzip", url,
    ]  # fmt: skip
    cpu0, t0 = _tree_cpu(server_pid), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    cpu = 100 * (_tree_cpu(server_pid) - cpu0) / (time.perf_counter() - t0)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    rps, p50, p99, errors = parse_wrk(done.stdout)
    measure = Measure(name, rps, p50, p99, errors, cpu)
    if spy is not None:
        try:
            spy.wait(30)
            measure.profile = profile_summary(profile.read_text()) if profile and profile.exists() else "py-spy wrote nothing"
        except subprocess.TimeoutExpired:
            stop_processes([spy])
    return measure


def _status(url: str) -> int:
    req = urllib.request.Request(url, headers={"Accept-Encoding": "br, gzip"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


# --------------------------------------------------------------------------- main


def run(args: argparse.Namespace, services: Services) -> int:
    from contest.settings import get_settings

    async def versions() -> tuple[str, str]:
        import asyncpg
        import redis.asyncio as aioredis

        conn = await asyncpg.connect(get_settings().db.url)
        r = aioredis.Redis.from_url(get_settings().redis.url, decode_responses=True)
        try:
            return await server_versions(conn, r)
        finally:
            await conn.close()
            await r.aclose()

    pg_version, redis_version = asyncio.run(versions())
    print(f"seeding {args.attempts:,} attempts of {args.contestants:,} contestants, scoring them ...", flush=True)
    t0 = time.perf_counter()
    site = asyncio.run(prepare(args.attempts, args.contestants))
    print(f"  seeded in {time.perf_counter() - t0:.0f} s: contest {site.slug}, round {site.round_id}", flush=True)

    procs: list[subprocess.Popen] = []
    stations: list[Station] = []
    try:
        for server in args.servers:
            extra = ["--workers", str(args.web_workers), "--server", server]
            ports = _free_port(), _free_port()
            hello = start_web(ports[0], services.data_dir / f"hello-{server}.log", [*extra, "--app", HELLO])
            procs.append(hello)
            app = start_web(ports[1], services.data_dir / f"web-{server}.log", extra)
            procs.append(app)
            stations.append(Station(server, hello, app, *ports))
        targets = [("/healthz", HEALTHZ_GOAL if args.healthz_goal is None else args.healthz_goal)]
        targets += [(p, args.goal) for p in pages(site)]
        if args.only:
            targets = [t for t in targets if any(part in t[0] for part in args.only)]
        for st in stations:
            bad = [(p, code) for p, _ in targets if (code := _status(st.app_url + p)) != 200]
            if bad:
                raise RuntimeError(f"not 200 before the run: {bad}; see {services.data_dir}/web-{st.server}.log")
            # Warm-up: templates compiled, pools filled, caches (if any) as they are in the middle of a crowd.
            for url, proc in ((st.hello_url, st.hello), (st.app_url, st.app)):
                wrk(url + "/healthz", 1, args.connections, proc.pid, "warm-up")
            for p, _ in targets:
                for _ in range(3):
                    _status(st.app_url + p)
        print(
            f"measuring {len(targets)} routes on {', '.join(args.servers)}, {args.duration:g} s each, "
            f"{args.connections} connections, hello every {PAGES_PER_HELLO} routes ...",
            flush=True,
        )

        def hello_round() -> None:
            for st in stations:
                st.hellos.append(wrk(st.hello_url + "/healthz", args.duration, args.connections, st.hello.pid, "bare hello"))
                print(f"  {'(bare hello)':<52}{st.server:>8}{st.hellos[-1].rps:>9,.0f} req/s", flush=True)

        hello_round()
        for i, (path, goal) in enumerate(targets):
            for st in stations:
                out = (
                    args.profile / f"{st.server}{re.sub(r'[^a-z0-9]+', '-', path.lower()).rstrip('-')}.txt"
                    if args.profile
                    else None
                )
                m = wrk(st.app_url + path, args.duration, args.connections, st.app.pid, path, out)
                m.goal = goal
                st.rows.append((m, len(st.hellos) - 1))
                print(f"  {path:<52}{st.server:>8}{m.rps:>9,.0f} req/s", flush=True)
            if (i + 1) % PAGES_PER_HELLO == 0 or i == len(targets) - 1:
                hello_round()
    finally:
        stop_processes(procs)

    code = 0
    print()
    print("bench_pages: requests/s of each public read over a bare Litestar hello, same server, same run")
    print(f"  machine     {machine_line()}")
    print(f"  servers     PostgreSQL {pg_version}: {services.postgres}")
    print(f"              Redis {redis_version}: {services.redis}")
    print(f"  data        {args.attempts:,} scored attempts of {args.contestants:,} contestants on the open round's boards")
    for st in stations:
        code |= report(st, args)
    if len(stations) > 1:
        compare(stations)
    return code


@dataclass
class Station:
    """One HTTP server under test: the bare hello and the real app, each served by `contest web --server`."""

    server: str
    hello: subprocess.Popen
    app: subprocess.Popen
    hello_port: int
    app_port: int
    hellos: list[Measure] = field(default_factory=list)
    rows: list[tuple[Measure, int]] = field(default_factory=list)  # (measure, index of the hello before it)

    @property
    def hello_url(self) -> str:
        return f"http://127.0.0.1:{self.hello_port}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"


def report(st: Station, args: argparse.Namespace) -> int:
    """The table of one server; 1 when a route misses its goal or any response was not 2xx."""
    for m, h in st.rows:
        around = (st.hellos[h].rps + st.hellos[h + 1].rps) / 2
        m.ratio = m.rps / around if around else 0.0
    hello_mean = sum(h.rps for h in st.hellos) / len(st.hellos)
    missed = [m for m, _ in st.rows if m.goal is not None and m.ratio < m.goal]
    errors = sum(m.errors for m, _ in st.rows) + sum(h.errors for h in st.hellos)
    workers = f"--workers {args.web_workers}" if args.web_workers != 1 else "(1 process)"
    print(f"  web         `contest web --server {st.server}` {workers}, the same for both apps; CONTEST_RATE_LIMIT=0")
    print(
        f"  client      wrk -t1 -c{args.connections} -d{args.duration:g}s, Accept-Encoding: br, gzip; bare hello "
        f"measured {len(st.hellos)} times, {min(h.rps for h in st.hellos):,.0f}-{max(h.rps for h in st.hellos):,.0f} req/s"
    )
    print(f"  {'-' * 100}")
    print(f"  {'route':<52}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'srv%':>6}{'err':>5}{'ratio':>7}{'goal':>6}")
    for m, _ in st.rows:
        verdict = "" if m.goal is None or m.ratio >= m.goal else "  BELOW GOAL"
        print(
            f"  {m.name:<52}{m.rps:>8,.0f}{m.p50_ms:>8.1f}{m.p99_ms:>8.1f}{m.cpu_server:>6.0f}{m.errors:>5}"
            f"{m.ratio:>7.2f}{m.goal:>6}{verdict}"
        )
    if args.profile:
        print(f"  {'-' * 100}")
        print(f"  where the time goes (py-spy, {args.profile}/{st.server}-*.txt: collapsed stacks, for flamegraph.pl)")
        for m, _ in st.rows:
            print(f"  {m.name:<40} {m.profile}")
    print(f"  {'-' * 100}")
    print(f"  bare hello (mean)                                   {hello_mean:>8,.0f}")
    print("  (ratio = req/s / mean of the bare hello measured just before and just after; srv% = that server's CPU,")
    print(f"   all its processes, % of one core; {nproc()} cores shared with wrk and the databases)")
    print(f"  {'ok  ' if not missed else 'FAIL'}  {len(st.rows) - len(missed)} of {len(st.rows)} routes meet their goal")
    print(f"  {'ok  ' if not errors else 'FAIL'}  {errors} non-2xx responses or socket errors")
    print()
    return 0 if not missed and not errors else 1


def compare(stations: list[Station]) -> None:
    """The real app's requests/s on each server, measured one after the other per route."""
    first, *others = stations
    print(f"  the real app on each server (req/s; ratio to {first.server}, same route, back to back)")
    print(
        f"  {'route':<52}" + "".join(f"{st.server:>10}" for st in stations) + "".join(f"{'÷':>4}{st.server:<9}" for st in others)
    )
    totals = [0.0] * len(stations)
    for i, (m, _) in enumerate(first.rows):
        rates = [st.rows[i][0].rps for st in stations]
        totals = [t + r / rates[0] for t, r in zip(totals, rates, strict=True)] if rates[0] else totals
        line = f"  {m.name:<52}" + "".join(f"{r:>10,.0f}" for r in rates)
        print(line + "".join(f"{(r / rates[0] if rates[0] else 0):>13.2f}" for r in rates[1:]))
    n = len(first.rows)
    hello = [sum(h.rps for h in st.hellos) / len(st.hellos) for st in stations]
    print(
        f"  {'bare hello (mean)':<52}"
        + "".join(f"{r:>10,.0f}" for r in hello)
        + "".join(f"{r / hello[0]:>13.2f}" for r in hello[1:])
    )
    print(f"  {'mean of the per-route ratios':<52}{'':>{10 * len(stations)}}" + "".join(f"{t / n:>13.2f}" for t in totals[1:]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.bench_pages", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=5, help="measured seconds per route (default 5)")
    parser.add_argument("--connections", type=int, default=64, help="wrk keep-alive connections (default 64)")
    parser.add_argument("--goal", type=float, default=CROWD_GOAL, help=f"ratio every crowd page must reach ({CROWD_GOAL})")
    parser.add_argument("--healthz-goal", type=float, help=f"ratio the app's /healthz must reach ({HEALTHZ_GOAL})")
    parser.add_argument("--attempts", type=int, default=10_000, help="scored attempts on the open round (default 10000)")
    parser.add_argument("--contestants", type=int, default=5_000, help="contestants of the open contest (default 5000)")
    parser.add_argument("--web-workers", type=int, default=1, help="`contest web --workers` of both servers (default 1)")
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=SERVERS,
        default=[SERVER],
        help="`contest web --server` to measure; several are interleaved route by route and compared (default: %(default)s)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the app with py-spy (pip install py-spy) during each route; stacks to DIR, summary in the table",
    )
    parser.add_argument("--only", nargs="+", metavar="PART", help="only the routes containing one of these texts")
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.attempts, args.contestants, args.web_workers) <= 0:
        parser.error("--duration, --connections, --attempts, --contestants and --web-workers must be positive")
    if shutil.which("wrk") is None:
        sys.exit(WRK_HINT)
    if args.profile:
        if _py_spy() is None:
            sys.exit("py-spy is not installed: `.venv/bin/pip install py-spy`, then run this again")
        args.profile.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with bench_services("pages") as services:
        code = run(args, services)
    print(f"  total run time {time.perf_counter() - started:.0f} s (setup, seeding, measurements, teardown)")
    sys.exit(code)


if __name__ == "__main__":
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    main()
