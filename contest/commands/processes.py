"""The processes: migrations and the demo, the web server, RQ workers, the scheduler, and `contest run` over them all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from contest.commands.operator import _, piccolo_env
from contest.settings import WebSettings, get_settings


def migrate() -> None:
    """Apply every pending migration (PostgreSQL only)."""
    piccolo_env()
    from piccolo.apps.migrations.commands.forwards import run_forwards

    response = asyncio.run(run_forwards(app_name="all", migration_id="all", fake=False))
    if not response.success:
        raise SystemExit(f"migrations failed: {response.message}")
    from contest.leaderboard.rebuild import ensure_layout

    for line in asyncio.run(ensure_layout()):  # boards scored in an older layout of the scores
        print(line)


def demo(all_provinces: bool = False) -> None:
    piccolo_env()
    from contest.demo import load_demo

    print(asyncio.run(load_demo(all_provinces=all_provinces)))


def warn_loopback_qr() -> None:
    """Say so when certificates are awarded while their QR codes print this machine's own address."""
    from contest.certificates import files, service

    if not files.loopback_address():
        return
    count = asyncio.run(service.awarded_count())
    if count:
        print(
            _("CẢNH BÁO: đã cấp {count} giấy chứng nhận nhưng mã QR in địa chỉ {url}, điện thoại không mở được. "
              "Đặt CONTEST_PUBLIC_URL là địa chỉ công khai của trang (ví dụ https://thi.haiphong.gov.vn); "
              "giấy sẽ được dựng lại với địa chỉ mới.").format(count=count, url=get_settings().public_url),
            flush=True,
        )  # fmt: skip


def worker(burst: bool = False) -> None:
    """An RQ worker on every queue, scoring first; the job modules are imported before it forks."""
    piccolo_env()
    from rq import Worker

    import contest.certificates.jobs  # noqa: F401
    import contest.certificates.purge  # noqa: F401
    import contest.certificates.render  # noqa: F401  (fonts and reportlab)
    import contest.people.jobs  # noqa: F401
    import contest.questions.jobs  # noqa: F401  (openpyxl)
    import contest.scoring.jobs  # noqa: F401  (preload before fork)
    from contest import keys
    from contest.redis import sync_redis

    # Queues in priority order: anything else waits while there is something to score. With the scheduler: attempts
    # nobody submits are closed by a job scheduled at their deadline + grace (scoring.queue.schedule_auto_submit).
    Worker(list(keys.QUEUES), connection=sync_redis()).work(burst=burst, logging_level="WARNING", with_scheduler=True)


def cron() -> None:
    """Enqueue the sweep every few seconds, and the personal data and certificate file purges once a day."""
    from rq.cron import CronScheduler
    from rq.exceptions import StopRequested

    from contest import keys
    from contest.certificates.purge import purge_files
    from contest.people.jobs import purge_personal_data
    from contest.redis import sync_redis
    from contest.scoring.jobs import sweep

    class Scheduler(CronScheduler):
        # rq stops on the first SIGINT/SIGTERM by raising StopRequested; a second one (Ctrl-C reaching the whole
        # process group, then the parent's SIGTERM) would raise it again inside its clean-up, as a traceback.
        stopping = False

        def _request_stop(self, signum: int, frame: object) -> None:
            if not self.stopping:
                self.stopping = True
                raise StopRequested()

    scheduler = Scheduler(connection=sync_redis(), logging_level="WARNING")
    scheduler.register(sweep, queue_name=keys.QUEUE_SCORING, interval=get_settings().contest.sweep_seconds)
    # At night (the scheduler host's time), on the queue workers take last.
    scheduler.register(purge_personal_data, queue_name=keys.QUEUE_PRIVACY, cron="30 2 * * *", job_timeout=3600)
    # Renders of superseded designs and old bundles: storage that does not grow forever.
    scheduler.register(purge_files, queue_name=keys.QUEUE_CERTIFICATES, cron="45 2 * * *", job_timeout=3600)
    with contextlib.suppress(StopRequested, KeyboardInterrupt):  # a signal before its loop began
        scheduler.start()


APP = WebSettings.app


SERVERS = ("uvicorn", "granian")
SERVER = "granian"  # the default, by measurement (BENCHMARKS.md: loadtests.bench_pages --servers uvicorn granian)


def web(workers: int = 1, app: str = APP, server: str = SERVER) -> None:
    """The web server: `workers` processes on one socket, each building its own app (they share only PostgreSQL and
    Redis). X-Forwarded-For is believed from CONTEST_FORWARDED_ALLOW_IPS only, so rate limits see real clients.
    `app` is the factory to serve: the benchmarks serve a bare hello app under this same server."""
    piccolo_env()
    os.environ["CONTEST_WEB_APP"] = app  # the setting its worker processes read (served_app)
    get_settings.cache_clear()
    s = get_settings().web
    if server == "granian":
        from granian.constants import Interfaces
        from granian.log import LogLevels
        from granian.server import Server

        Server(
            "contest.commands.processes:served_app",
            address=s.host,
            port=s.port,
            interface=Interfaces.ASGI,
            workers=workers,
            factory=True,
            log_level=LogLevels.warning,
            backlog=s.backlog,
            backpressure=s.connections,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        s.app,
        factory=True,
        host=s.host,
        port=s.port,
        workers=workers,
        backlog=s.backlog,
        proxy_headers=True,
        forwarded_allow_ips=s.forwarded_allow_ips,
        log_level="warning",
    )


def served_app() -> Any:
    """Granian's factory, in each of its worker processes: the app `contest web --app` names, believing
    X-Forwarded-For only from CONTEST_FORWARDED_ALLOW_IPS (uvicorn does the same with proxy_headers)."""
    from importlib import import_module

    from granian.utils.proxies import wrap_asgi_with_proxy_headers

    module, _, factory = get_settings().web.app.partition(":")
    return wrap_asgi_with_proxy_headers(getattr(import_module(module), factory)(), get_settings().web.forwarded_allow_ips)


def run(workers: int, web_workers: int = 1) -> None:
    """Everything `make run` promises; Ctrl-C stops every process it started, once, without a traceback."""
    from contest.servers import backing_services

    settings = get_settings()
    try:
        with backing_services(settings.data_dir):
            print("PostgreSQL:", get_settings().db.url)
            print("Redis:     ", get_settings().redis.url)
            migrate()
            demo()
            warn_loopback_qr()
            _supervise(workers, web_workers)
    except KeyboardInterrupt:  # Ctrl-C while migrating or loading the demo
        pass
    print("stopped.")


def _supervise(workers: int, web_workers: int) -> None:
    """Start the workers, the scheduler and the web server, and stop them all when asked or when one ends.

    Each child runs in a session of its own, so Ctrl-C reaches this process only and each child is stopped by one
    SIGTERM: a second signal in the middle of its own shutdown is what made them print tracebacks.
    """
    me = [sys.executable, "-m", "contest.cli"]
    commands = [["worker"]] * workers + [["cron"], ["web", "--workers", str(web_workers)]]
    procs: list[subprocess.Popen] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        for command in commands:
            procs.append(subprocess.Popen([*me, *command], start_new_session=True))
        s = get_settings().web
        print(f"\n  Contest is running at http://{s.host}:{s.port}   (Ctrl-C stops everything)\n", flush=True)
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.3)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
