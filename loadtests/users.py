"""Locust users for the peak proof: contestants, board watchers, commune officials, and the DeadlineSpike shape.

loadtests/locustfile.py picks these up; loadtests/run_load.py starts a whole system and drives them (see
loadtests/README.md). Every knob is an environment variable, so the same file serves a quick run and the peak:

    LOCUST_THINK_SECONDS       mean thinking time per question (default 11.5: 8-15 s; 0.5 for a quick run)
    LOCUST_CONTEST             contest slug (default cong-dan-so, else the first listed)
    LOCUST_PROVINCE            province whose communes contestants register in (default 31, Hải Phòng)
    LOCUST_SECOND_ATTEMPT      share of contestants who take a second attempt (default 0.3)
    LOCUST_RUN_OUT             share of attempts left to run out of time: never submitted, the server
                               auto-submits them (default 0.1)
    LOCUST_BOARD_POLL_SECONDS  how often a board page asks for its live fragment (default 2)
    LOCUST_LEDGER_DIR          where each process writes what its users sent and what was acknowledged
                               (JSON lines, for run_load's data check); unset: nothing is written
    LOCUST_OFFICIALS_FILE      JSON list of {"email", "password", "commune"} accounts for Official users
    LOCUST_WARM_SECONDS        contestants started in this many seconds after the first one join mid-journey (their
                               first attempt skips a random number of questions and the form-filling pauses), so a
                               short run starts in the steady state of a round open for days, not with everyone
                               on question 1 (default 0; run_load sets it to the initial ramp)
    LOCUST_SHAPE=spike         use DeadlineSpike, read from LOCUST_USERS (peak), LOCUST_STEADY_USERS,
                               LOCUST_DURATION, LOCUST_SPIKE_SECONDS, LOCUST_TAIL_SECONDS (or --users, --run-time)
    LOCUST_SHAPE=opening       use OpeningSpike: LOCUST_USERS arrive within LOCUST_SPIKE_SECONDS (default 60) of the
                               opening and wait in the server's line when it answers 202

Request names group URLs by shape ("/api/v1/attempts/[id]/answers/[pos]"); a failure says what went wrong.
Two custom metrics (type RESULT): "submit → result ready" and "deadline → result ready (auto-submit)".
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import random
import re
import time
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, LoadTestShape, between, constant, events, task

THINK = float(os.environ.get("LOCUST_THINK_SECONDS", "11.5"))
CONTEST = os.environ.get("LOCUST_CONTEST", "cong-dan-so")
PROVINCE = int(os.environ.get("LOCUST_PROVINCE", "31"))
SECOND_ATTEMPT = float(os.environ.get("LOCUST_SECOND_ATTEMPT", "0.3"))
RUN_OUT = float(os.environ.get("LOCUST_RUN_OUT", "0.1"))
BOARD_POLL = float(os.environ.get("LOCUST_BOARD_POLL_SECONDS", "2"))
LEDGER_DIR = os.environ.get("LOCUST_LEDGER_DIR", "")
OFFICIALS_FILE = os.environ.get("LOCUST_OFFICIALS_FILE", "")
WARM_SECONDS = float(os.environ.get("LOCUST_WARM_SECONDS", "0"))

CHANGE_ANSWER = 0.15  # how often a contestant changes their mind on a question
TRY_THIRD = 0.2  # how often someone who used every attempt tries again (the 422 "limit reached" is expected)
MAX_POLLS = 60  # result reads after a submit before giving up
# A result read is held by the server until the attempt is ranked, at most this long (?wait=); not ready then, the
# next read goes out when its Retry-After says (at once after a held wait, paced when the server's channel is down).
# These reads are named "… (held)": their time is the scoring's (the RESULT metrics), not a latency.
HOLD = int(os.environ.get("LOCUST_RESULT_HOLD", "20"))
HELD = " (held)"
# After the deadline the server waits the grace period (10 s), then auto-submits (a job scheduled at deadline + grace,
# the sweep as the safety net) and scoring follows: a result still not ready this long after the deadline is a failure.
AUTO_SUBMIT_WAIT = 90.0
SUBMITTED = "submit → result ready"
WAITED = "start → let in (line at the opening)"
AUTO_SUBMITTED = "deadline → result ready (auto-submit)"

API = {"Accept-Language": "en", "Accept": "application/json"}
PAGE = {"Accept-Language": "vi", "Accept": "text/html"}
HTMX = {**PAGE, "HX-Request": "true"}

GROUPS = ("citizens", "officials", "teachers", "students", "workers", "youth", "soldiers")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Ngọc", "Quang", "Hữu")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hùng", "Lan", "Linh", "Mai", "Nam", "Phương", "Tú")

# Unique mobile numbers in the normalised national form (09x + 7 digits, networks the app accepts). Each process
# walks a counter from a random offset in the 70-million space, started lazily so that processes forked by
# `locust --processes` do not share one; a clash with another process is retried with the next number.
_PREFIXES = ("090", "091", "093", "094", "096", "097", "098")
_SPACE = len(_PREFIXES) * 10**7
_phones: tuple[int, itertools.count] | None = None


def new_phone() -> str:
    """The next unique mobile number of this process; one in ten is typed the international way (+84 9x …)."""
    global _phones
    if _phones is None or _phones[0] != os.getpid():
        _phones = (os.getpid(), itertools.count(uuid.uuid4().int % _SPACE))
    n = next(_phones[1]) % _SPACE
    phone = f"{_PREFIXES[n // 10**7]}{n % 10**7:07d}"
    return f"+84 {phone[1:3]} {phone[3:6]} {phone[6:]}" if n % 10 == 0 else phone


def think(factor: float = 1.0) -> None:
    """Reading and thinking: THINK × factor seconds, ±30 % (8-15 s per question at the default)."""
    if THINK > 0:
        gevent.sleep(THINK * factor * random.uniform(0.7, 1.3))


def pause_for(factor: float = 1.0) -> float:
    return THINK * factor * random.uniform(0.7, 1.3) if THINK > 0 else 0.0


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def errors_of(resp: Any) -> str:
    """The API's {"errors": {...}} as one line, else the start of the body."""
    try:
        body = resp.json()
        if isinstance(body, dict) and "errors" in body:
            return "; ".join(f"{k}: {v}" for k, v in body["errors"].items())
    except Exception:
        pass
    return (resp.text or "")[:200] if getattr(resp, "text", None) else str(getattr(resp, "error", ""))


def fail(resp: Any, what: str) -> None:
    """Mark a response failed with a message that says what went wrong."""
    code = resp.status_code
    if code == 0:
        resp.failure(f"{what}: connection error {getattr(resp, 'error', '')}")
    elif code == 401:
        resp.failure(f"{what}: 401 not identified (bad or missing token)")
    elif code == 429:
        resp.failure(f"{what}: 429 rate limited; start the system with CONTEST_RATE_LIMIT=0")
    elif code == 422:
        resp.failure(f"{what}: 422 {errors_of(resp)}")
    else:
        resp.failure(f"{what}: HTTP {code} {errors_of(resp)}")


_first_start: float | None = None


def joins_mid_journey() -> bool:
    """Whether a contestant starting now belongs to the initial ramp (see LOCUST_WARM_SECONDS)."""
    global _first_start
    now = time.monotonic()
    if _first_start is None:
        _first_start = now
    return now - _first_start < WARM_SECONDS


class Journey(Exception):
    """Ends this journey early (the failure is already in the stats)."""


# --------------------------------------------------------------------------- the ledger


class Ledger:
    """What this process's users sent and what the server acknowledged, one JSON array a line.

    ["start", attempt, deadline, round]      an attempt the server opened for us
    ["answer", attempt, position, option, ok] ok = 1 when the server said 204; 0 when it refused, the connection
                                              failed or the run ended while waiting (it may or may not be stored)
    ["prediction", attempt, value, ok]        the same for the prediction
    ["submit", attempt, ok]                   ok = 1: the server answered the submit with 200
    ["ran_out", attempt]                      never submitted: the server must auto-submit it
    ["result", attempt, correct, auto]        what the result said once ready

    A user's lines are written in the order it sent them, so the last acknowledged answer of a position is the one
    that must be in the database (or a later unacknowledged one). run_load reads every file after the run.
    """

    def __init__(self) -> None:
        self.file: IO[str] | None = None
        self.pid = 0

    def write(self, *record: object) -> None:
        if not LEDGER_DIR:
            return
        if self.file is None or self.pid != os.getpid():
            folder = Path(LEDGER_DIR)
            folder.mkdir(parents=True, exist_ok=True)
            self.pid = os.getpid()
            self.file = (folder / f"ledger-{self.pid}.jsonl").open("a", encoding="utf-8", buffering=1 << 16)
        self.file.write(json.dumps(record, separators=(",", ":")) + "\n")

    def flush(self) -> None:
        if self.file is not None and self.pid == os.getpid():
            self.file.flush()


ledger = Ledger()
atexit.register(ledger.flush)


@events.test_stop.add_listener
def _flush_on_stop(**_: Any) -> None:
    ledger.flush()


@events.quitting.add_listener
def _flush_on_quit(**_: Any) -> None:
    ledger.flush()


# --------------------------------------------------------------------------- shared steps


class Visitor(FastHttpUser):
    """What every simulated person can do: find the contest and its round, look at a board."""

    abstract = True
    # One connection per person; phones reconnect after the server's keep-alive, like the real ones.
    concurrency = 1
    contest: dict | None = None

    def find_contest(self) -> dict | None:
        """The contest as the app knows it (GET /api/v1/contests/{slug}, else the first listed)."""
        with self.client.get(
            f"/api/v1/contests/{CONTEST}", name="/api/v1/contests/[slug]", headers=API, catch_response=True
        ) as r:
            if r.status_code == 200:
                self.contest = r.json()
                return self.contest
            if r.status_code != 404:
                fail(r, "contest")
                return None
            r.success()  # another contest: take the first listed
        with self.client.get("/api/v1/contests", name="/api/v1/contests", headers=API, catch_response=True) as r:
            if r.status_code != 200 or not r.json():
                fail(r, "list contests") if r.status_code != 200 else r.failure("no contest (load the demo: contest demo)")
                return None
            self.contest = r.json()[0]
            return self.contest

    def open_round(self) -> dict | None:
        """The contest's round open now, if any."""
        rounds = self.contest["rounds"] if self.contest else []
        return next((r for r in rounds if r["state"] == "open"), None)

    def shown_round(self) -> dict | None:
        """The round a board link points at: the open one, else the last one that has opened."""
        rounds = self.contest["rounds"] if self.contest else []
        started = [r for r in rounds if r["state"] != "upcoming" and epoch(r["opens_at"]) <= time.time()]
        return self.open_round() or (started[-1] if started else rounds[0] if rounds else None)

    def page(self, url: str, name: str, what: str, headers: dict | None = None) -> str | None:
        """A page (or htmx fragment) as a browser asks for it; its HTML, None when it failed."""
        with self.client.get(url, name=name, headers=headers or PAGE, catch_response=True) as r:
            if r.status_code != 200:
                fail(r, what)
                return None
            return r.text


# --------------------------------------------------------------------------- contestant


class Contestant(Visitor):
    """A citizen: the contest page, register, one answer at a time, prediction, submit (or let the clock run out),
    wait for the result, look at the board; sometimes a second attempt."""

    weight = 20
    wait_time = between(0.5 * THINK, 2 * THINK)  # between journeys

    def on_start(self) -> None:
        self.token: str | None = None
        self.communes: list[int] = []
        self.expect_limit = False
        self.retry_after = 0.0  # what the last result read said (Retry-After)
        self.warm = joins_mid_journey()

    def auth(self) -> dict[str, str]:
        return {**API, "Authorization": f"Bearer {self.token}"}

    @task
    def journey(self) -> None:
        try:
            self.page(f"/c/{CONTEST}", "/c/[slug]", "contest page")
            if self.find_contest() is None:
                return
            think(0.3)
            rnd = self.open_round()
            if rnd is None or time.time() >= epoch(rnd["closes_at"]) - 1:
                self.look_at_board()  # the round has closed: see how it ended
                self.token = None
                return
            if self.token is None:
                self.register()
            attempt = self.start_attempt(rnd)
            if attempt is not None:
                self.take_attempt(rnd, attempt)
        except Journey:
            pass

    def look_at_board(self) -> None:
        rnd = self.shown_round()
        if rnd is not None:
            self.page(f"/rounds/{rnd['id']}/board", "/rounds/[id]/board", "board page")
            think(1)

    def load_communes(self) -> None:
        url = f"/api/v1/provinces/{PROVINCE}/communes"
        with self.client.get(url, name="/api/v1/provinces/[code]/communes", headers=API, catch_response=True) as r:
            if r.status_code != 200:
                fail(r, "communes")
                raise Journey
            self.communes = [c["code"] for c in r.json()]
            if not self.communes:
                r.failure(f"province {PROVINCE} has no communes")
                raise Journey

    def register(self) -> None:
        """A new person registers with a unique phone; a clash with another process is retried with the next one."""
        if not self.communes:
            self.load_communes()
        if not self.warm:
            think(1.5)  # filling in the form
        year = date.today().year
        body: dict[str, Any] = {
            "full_name": f"{random.choice(FAMILY)} {random.choice(MIDDLE)} {random.choice(GIVEN)}",
            "birth_year": random.randint(year - 70, year - 12),
            "commune": random.choice(self.communes),
            "group": random.choice(GROUPS),
            "consent": True,
        }
        url = f"/api/v1/contests/{self.contest['slug'] if self.contest else CONTEST}/register"
        for tries in range(3):
            body["phone"] = new_phone()
            with self.client.post(url, json=body, headers=API, name="/api/v1/contests/[slug]/register", catch_response=True) as r:
                if r.status_code in (200, 201):
                    self.token = r.json()["token"]
                    self.expect_limit = False
                    return
                if r.status_code == 422 and "already registered" in r.text and tries < 2:
                    r.success()  # another process had this number: the next one
                    continue
                fail(r, "register")
                raise Journey

    def start_attempt(self, rnd: dict) -> dict | None:
        """Start (or resume) an attempt. The attempt limit, and a start that crossed the close, are expected refusals.
        At an opening beyond the server's capacity the start answers 202 with a place in line: wait as told and ask
        again (the metric WAITED times the line), as the waiting page does."""
        url, name = f"/api/v1/rounds/{rnd['id']}/attempts", "/api/v1/rounds/[id]/attempts"
        queued_at: float | None = None
        while True:
            with self.client.post(url, headers=self.auth(), name=name, catch_response=True) as r:
                if r.status_code != 202:
                    if queued_at is not None:
                        self.metric(WAITED, queued_at, None)
                    return self.started(rnd, r)
                line = r.json()
                url, name = line["poll"], "/api/v1/rounds/[id]/attempts/queue"
                queued_at = queued_at or time.perf_counter()
                wait = float(r.headers.get("Retry-After") or line["retry_after"])
            gevent.sleep(wait)

    def started(self, rnd: dict, r: Any) -> dict | None:
        """What the start answered once let in (inside its catch_response block)."""
        if r.status_code in (200, 201):
            attempt = r.json()
            count = self.contest["question_count"] if self.contest else 0
            if attempt["status"] != "open" or len(attempt["questions"]) != count:
                r.failure(
                    f"start: attempt {attempt['id']} is {attempt['status']} with "
                    f"{len(attempt['questions'])} questions, expected open with {count}"
                )
                self.token = None
                return None
            ledger.write("start", attempt["id"], epoch(attempt["deadline"]), rnd["id"])
            return attempt
        if r.status_code == 422 and "attempts of this round" in r.text:
            # Expected after the last attempt; a bug when the last result still said attempts were left.
            if self.expect_limit:
                r.success()
            else:
                r.failure(f"start: attempt limit reached although attempts were left: {errors_of(r)}")
            self.token = None
            return None
        if r.status_code == 422 and "not open" in r.text and time.time() >= epoch(rnd["closes_at"]) - 5:
            r.success()  # sent as the round closed
            return None
        fail(r, "start attempt")
        if r.status_code in (401, 422):
            self.token = None  # start afresh as a new person
        return None

    def put(self, url: str, name: str, body: dict, what: str) -> bool:
        """PUT that must get 204; False when it did not (the failure is in the stats)."""
        with self.client.put(url, json=body, headers=self.auth(), name=name, catch_response=True) as r:
            if r.status_code != 204:
                fail(r, what)
                return False
            return True

    def next_seq(self) -> int:
        """The order of this user's answers, as the attempt page sends it (its clock in ms, never going back)."""
        self.seq = max(getattr(self, "seq", 0) + 1, int(time.time() * 1000))
        return self.seq

    def answer(self, aid: int, position: int, option: int, what: str) -> None:
        ok = False
        try:
            ok = self.put(
                f"/api/v1/attempts/{aid}/answers/{position}",
                "/api/v1/attempts/[id]/answers/[pos]",
                {"option_id": option, "seq": self.next_seq()},
                what,
            )
        finally:  # also when the run ends while waiting: that answer may or may not be stored
            ledger.write("answer", aid, position, option, int(ok))
        if not ok:
            raise Journey

    def take_attempt(self, rnd: dict, attempt: dict) -> None:
        aid = attempt["id"]
        deadline = epoch(attempt["deadline"])
        questions = attempt["questions"]
        # Some people stop part-way and leave the phone: the server auto-submits at the deadline.
        stop_after = random.randrange(len(questions)) if random.random() < RUN_OUT else None
        # Joining mid-journey: the first questions went by before the run (left unanswered), thinking on the next.
        skip = random.randrange(len(questions)) if self.warm else 0
        self.warm = False
        if skip:
            gevent.sleep(random.uniform(0, pause_for()))
        else:
            think(0.5)  # reading the rules
        answered = 0
        for q in questions[skip:]:
            if stop_after is not None and answered >= stop_after:
                return self.wait_for_auto_submit(aid, deadline)
            if q["chosen"] is not None and random.random() < 0.5:
                continue  # a resumed attempt: this one was answered already
            pause = pause_for()
            if time.time() + pause >= deadline - 1:
                return self.wait_for_auto_submit(aid, deadline)  # the clock ran out while thinking
            gevent.sleep(pause)
            option = random.choice(q["options"])["id"]
            self.answer(aid, q["position"], option, "answer")
            answered += 1
            if random.random() < CHANGE_ANSWER and len(q["options"]) > 1:
                pause = pause_for(0.3)  # second thoughts
                if time.time() + pause >= deadline - 1:
                    return self.wait_for_auto_submit(aid, deadline)
                gevent.sleep(pause)
                other = random.choice([o["id"] for o in q["options"] if o["id"] != option])
                self.answer(aid, q["position"], other, "change answer")
        if attempt.get("ask_prediction", True):
            pause = pause_for()
            if time.time() + pause >= deadline - 1:
                return self.wait_for_auto_submit(aid, deadline)
            gevent.sleep(pause)
            self.predict(aid, random.randint(1_000, 500_000))
        pause = pause_for(0.3)  # checking before sending
        if time.time() + pause >= deadline - 1:
            return self.wait_for_auto_submit(aid, deadline)
        gevent.sleep(pause)
        self.submit(aid, len(questions))

    def predict(self, aid: int, value: int) -> None:
        ok = False
        try:
            ok = self.put(
                f"/api/v1/attempts/{aid}/prediction",
                "/api/v1/attempts/[id]/prediction",
                {"value": value, "seq": self.next_seq()},
                "prediction",
            )
        finally:
            ledger.write("prediction", aid, value, int(ok))
        if not ok:
            raise Journey

    def submit(self, aid: int, count: int) -> None:
        started = time.perf_counter()
        ok = False
        try:
            with self.client.post(
                f"/api/v1/attempts/{aid}/submit",
                json={},
                headers=self.auth(),
                name="/api/v1/attempts/[id]/submit",
                catch_response=True,
            ) as r:
                if r.status_code not in (200, 201):
                    fail(r, "submit")
                    raise Journey
                result = r.json()
                ok = True
        finally:
            ledger.write("submit", aid, int(ok))
        polls = 0
        while not result["ready"]:
            if polls >= MAX_POLLS:
                self.metric(SUBMITTED, started, f"result of attempt {aid} not ready after {polls} polls ({result['status']})")
                raise Journey
            if polls:
                gevent.sleep(self.retry_after)
            polls += 1
            result = self.result(aid, HOLD)
        self.metric(SUBMITTED, started, self.check_result(result, count, auto=None))
        self.after(result)

    def wait_for_auto_submit(self, aid: int, deadline: float) -> None:
        """Never submitted: the app shows "time is up" at the deadline and polls until the server has closed it."""
        ledger.write("ran_out", aid)
        # At 0:00 the app asks; phones' timers differ by a fraction of a second.
        gevent.sleep(max(0.0, deadline - time.time()) + random.uniform(0, 0.5))
        started = time.perf_counter()
        give_up = time.time() + AUTO_SUBMIT_WAIT
        while True:
            result = self.result(aid, HOLD)
            if result["ready"]:
                break
            if time.time() >= give_up:
                self.metric(
                    AUTO_SUBMITTED,
                    started,
                    f"attempt {aid} not auto-submitted and scored {AUTO_SUBMIT_WAIT:.0f} s after its deadline",
                )
                raise Journey
            gevent.sleep(self.retry_after)
        count = self.contest["question_count"] if self.contest else result["total"]
        self.metric(AUTO_SUBMITTED, started, self.check_result(result, count, auto=True))
        self.after(result)

    def result(self, aid: int, hold: int = 0) -> dict:
        """The attempt's result; with `hold`, the server holds the request until it is ranked (at most `hold` s)."""
        url, name = f"/api/v1/attempts/{aid}/result", "/api/v1/attempts/[id]/result"
        if hold:
            url, name = f"{url}?wait={hold}", name + HELD
        with self.client.get(url, headers=self.auth(), name=name, catch_response=True) as r:
            if r.status_code != 200:
                fail(r, "result")
                raise Journey
            self.retry_after = float(r.headers.get("Retry-After") or 0)
            return r.json()

    @staticmethod
    def check_result(result: dict, count: int, auto: bool | None) -> str | None:
        """What is wrong with a ready result, if anything."""
        if result["status"] != "scored" or result["best"] is None:
            return f"ready but status {result['status']}, best {result['best']}"
        if result["total"] != count or result["correct"] is None or not 0 <= result["correct"] <= count:
            return f"ready but correct {result['correct']} of {result['total']} (expected {count} questions)"
        if auto is not None and result["auto_submitted"] != auto:
            return f"attempt {result['attempt_id']}: auto_submitted {result['auto_submitted']}, expected {auto}"
        return None

    def metric(self, name: str, started: float, problem: str | None) -> None:
        """A custom RESULT metric: from the submit (or the deadline) to the first response saying the result is ready."""
        self.environment.events.request.fire(
            request_type="RESULT",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=AssertionError(problem) if problem else None,
            context={},
        )

    def after(self, result: dict) -> None:
        """Look at the board; then a second attempt, a try past the limit, or leave so that a new person comes."""
        ledger.write("result", result["attempt_id"], result["correct"], int(result["auto_submitted"]))
        self.look_at_board()
        left = result["attempts_left"]
        if left > 0 and random.random() < SECOND_ATTEMPT:
            return  # the same person starts their next attempt on the next journey
        if left == 0 and random.random() < TRY_THIRD:
            self.expect_limit = True
            return  # the same person tries once more: the 422 "limit reached" is expected
        self.token = None


# --------------------------------------------------------------------------- board watcher

_COMMUNE_LINK = re.compile(r"\?commune=(\d+)")
_STATIC = ("/static/app.css", "/static/htmx.min.js", "/static/app.js")


class BoardWatcher(Visitor):
    """Someone following the contest in a browser: a board page, then its htmx fragment every few seconds;
    now and then a commune's board (a link on the page) or the contest-wide board."""

    weight = 3
    wait_time = constant(0)  # the task keeps its own rhythm

    def on_start(self) -> None:
        self.communes: list[str] = []
        self.find_contest()
        for path in _STATIC:  # once: the browser caches them
            with self.client.get(path, name="/static/[file]", headers=PAGE, catch_response=True) as r:
                if r.status_code != 200:
                    fail(r, "static file")

    @task
    def watch(self) -> None:
        rnd = self.shown_round()
        if rnd is None:
            if self.find_contest() is None:
                gevent.sleep(BOARD_POLL)
            return
        roll = random.random()
        if roll < 0.2 and self.communes:
            code = random.choice(self.communes)
            page, name = f"/rounds/{rnd['id']}/board?commune={code}", "/rounds/[id]/board?commune=[code]"
            live, live_name = f"/rounds/{rnd['id']}/board/live?commune={code}", "/rounds/[id]/board/live?commune=[code]"
        elif roll < 0.3:
            slug = self.contest["slug"] if self.contest else CONTEST
            page, name = f"/c/{slug}/board", "/c/[slug]/board"
            live, live_name = f"/c/{slug}/board/live", "/c/[slug]/board/live"
        else:
            page, name = f"/rounds/{rnd['id']}/board", "/rounds/[id]/board"
            live, live_name = f"/rounds/{rnd['id']}/board/live", "/rounds/[id]/board/live"
        html = self.page(page, name, "board page")
        if html is None:
            gevent.sleep(BOARD_POLL)
            return
        self.communes = self.communes or sorted(set(_COMMUNE_LINK.findall(html)))
        for _ in range(random.randint(5, 30)):  # stays on the page a while
            gevent.sleep(BOARD_POLL)
            self.page(live, live_name, "board fragment", headers=HTMX)


# --------------------------------------------------------------------------- official

_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
_accounts = itertools.count()


def _officials() -> list[dict]:
    if not OFFICIALS_FILE:
        return []
    return json.loads(Path(OFFICIALS_FILE).read_text(encoding="utf-8"))


class Official(FastHttpUser):
    """A commune official: signs in at /staff/login, opens their commune's dashboard and refreshes it now and then
    (the htmx refresh, sometimes the next page of contestants); downloads nothing heavy."""

    weight = 1
    wait_time = between(15, 45)  # reading the dashboard
    concurrency = 1
    accounts = _officials()

    def on_start(self) -> None:
        self.signed_in = False
        if not self.accounts:
            return
        account = self.accounts[next(_accounts) % len(self.accounts)]
        self.commune = account["commune"]
        with self.client.get("/staff/login", name="/staff/login", headers=PAGE, catch_response=True) as r:
            found = _CSRF.search(r.text or "") if r.status_code == 200 else None
            if found is None:
                fail(r, "sign-in page") if r.status_code != 200 else r.failure("sign-in page without a CSRF token")
                return
        form = {"_csrf_token": found.group(1), "email": account["email"], "password": account["password"], "next": "/staff/"}
        with self.client.post(
            "/staff/login",
            data=urlencode(form),
            headers={**PAGE, "Content-Type": "application/x-www-form-urlencoded"},
            name="/staff/login",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 302:
                fail(r, "sign in")
                return
        self.signed_in = True
        self.page("/staff/", "/staff/", "staff home")
        # /staff/officials/ sends an official of one commune straight to its dashboard.
        self.page("/staff/officials/", "/staff/officials/ → /staff/officials/communes/[code]", "officials home")

    def page(self, url: str, name: str, what: str, headers: dict | None = None) -> None:
        with self.client.get(url, name=name, headers=headers or PAGE, catch_response=True) as r:
            if r.status_code != 200:
                fail(r, what)
            elif 'name="password"' in (r.text or ""):
                r.failure(f"{what}: sent back to the sign-in page")

    @task(3)
    def refresh(self) -> None:
        if self.signed_in:
            self.page(
                f"/staff/officials/communes/{self.commune}",
                "/staff/officials/communes/[code] (htmx)",
                "dashboard refresh",
                headers={**HTMX, "HX-Target": "dashboard"},
            )

    @task(1)
    def next_page(self) -> None:
        if self.signed_in:
            self.page(
                f"/staff/officials/communes/{self.commune}?page=2", "/staff/officials/communes/[code]?page=[n]", "dashboard page"
            )


# --------------------------------------------------------------------------- the opening and the deadline spike


class OpeningSpike(LoadTestShape):
    """The opening: the round opens and LOCUST_USERS people arrive within LOCUST_SPIKE_SECONDS (default 60), all
    starting at once; beyond the server's start rate (CONTEST_START_RATE) they wait in line (202 + Retry-After) and
    start when let in, then take the round. The load holds at the peak until LOCUST_DURATION (or --run-time)."""

    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        opts = self.runner.environment.parsed_options if self.runner else None
        peak = int(os.environ.get("LOCUST_USERS") or getattr(opts, "num_users", None) or 100)
        duration = float(os.environ.get("LOCUST_DURATION") or getattr(opts, "run_time", None) or 180)
        spike = float(os.environ.get("LOCUST_SPIKE_SECONDS") or 60)
        t = self.get_run_time()
        if t >= duration:
            return None
        return peak, max(1.0, peak / max(1.0, spike))


class DeadlineSpike(LoadTestShape):
    """Steady load, then a surge of people starting as the round closes, then the close itself.

    0 .. D-S-T   LOCUST_STEADY_USERS users (reached at --spawn-rate)
    D-S-T .. D-T the surge: up to LOCUST_USERS, spread evenly over LOCUST_SPIKE_SECONDS (S)
    D-T .. D     the round has closed (run_load closes it at D-T): auto-submits, scoring, results, boards
    where D = LOCUST_DURATION (or --run-time) and T = LOCUST_TAIL_SECONDS (default 30). Then it stops.
    """

    use_common_options = True  # --users / --spawn-rate / --run-time stand in for the LOCUST_* values

    def tick(self) -> tuple[int, float] | None:
        opts = self.runner.environment.parsed_options if self.runner else None
        peak = int(os.environ.get("LOCUST_USERS") or getattr(opts, "num_users", None) or 100)
        steady = int(os.environ.get("LOCUST_STEADY_USERS") or max(1, peak // 5))
        duration = float(os.environ.get("LOCUST_DURATION") or getattr(opts, "run_time", None) or 180)
        spike = float(os.environ.get("LOCUST_SPIKE_SECONDS") or duration / 3)
        tail = float(os.environ.get("LOCUST_TAIL_SECONDS") or 30)
        rate = float(getattr(opts, "spawn_rate", None) or max(1.0, steady / 10))
        t = self.get_run_time()
        surge_from = max(0.0, duration - tail - spike)
        if t >= duration:
            return None
        if t < surge_from:
            return steady, rate
        if t < duration - tail:
            # The surge: the target climbs through the spike window, so starts keep coming until the close.
            done = min(1.0, (t - surge_from + 1) / max(1.0, spike))
            return steady + round((peak - steady) * done), max(rate, (peak - steady) / max(1.0, spike))
        return peak, max(rate, (peak - steady) / max(1.0, spike))
