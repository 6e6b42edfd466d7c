"""The `contest` command: what the Makefile calls.

contest run [--workers N] [--web-workers N]   the whole system: PostgreSQL, Redis, migrations, demo, workers, scheduler, web
contest migrate    apply Piccolo migrations
contest demo       load the demo contest (idempotent)
contest web [--workers N]   the web server only (N processes)
contest worker     one RQ worker (scoring)
contest cron       the scheduler that enqueues the sweep (auto-submit, re-kick, re-rank)
contest leaderboards rebuild [--round N]   rebuild Redis boards from PostgreSQL (one round, or every round with scores)
contest leaderboards check [--round N]     compare Redis with PostgreSQL, change nothing; exits 1 on differences
contest certificates award --round N | zip --round N [--out FILE]   a round's certificates, with a progress bar
contest questions import FILE [--dry-run] | export FILE [--topic SLUG] | template FILE   the question bank as xlsx/CSV/zip
contest privacy purge [--dry-run]   anonymise personal data of contests past their retention period (also daily from cron)

Each command imports what it needs inside its function, on purpose (not to dodge a cycle): table modules may only be
imported after `_piccolo_env()` points Piccolo at piccolo_conf, `contest --help` stays fast without the app, fonts and
reportlab, and the worker imports its heavy job modules itself, once, before RQ forks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from contest.i18n import DEFAULT, LANGUAGES
from contest.settings import ROOT, WebSettings, get_settings

# The operator's language (`contest --lang en ...`): messages are Vietnamese msgids translated in contest/locales.
_lang = DEFAULT


def _(text: str) -> str:
    from contest.translations import translations

    return translations(_lang).gettext(text)


def _piccolo_env() -> None:
    os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def migrate() -> None:
    """Apply every pending migration (PostgreSQL only)."""
    _piccolo_env()
    from piccolo.apps.migrations.commands.forwards import run_forwards

    response = asyncio.run(run_forwards(app_name="all", migration_id="all", fake=False))
    if not response.success:
        raise SystemExit(f"migrations failed: {response.message}")


def demo(all_provinces: bool = False) -> None:
    _piccolo_env()
    from contest.demo import load_demo

    print(asyncio.run(load_demo(all_provinces=all_provinces)))


def worker(burst: bool = False) -> None:
    """An RQ worker on every queue, scoring first; the job modules are imported before it forks."""
    _piccolo_env()
    from rq import Worker

    import contest.certificates.jobs  # noqa: F401
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
    """Enqueue the sweep every few seconds, and the personal data purge once a day."""
    from rq.cron import CronScheduler
    from rq.exceptions import StopRequested

    from contest import keys
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
    with contextlib.suppress(StopRequested, KeyboardInterrupt):  # a signal before its loop began
        scheduler.start()


APP = WebSettings.app


SERVERS = ("uvicorn", "granian")
SERVER = "granian"  # the default, by measurement (BENCHMARKS.md: loadtests.bench_pages --servers uvicorn granian)


def web(workers: int = 1, app: str = APP, server: str = SERVER) -> None:
    """The web server: `workers` processes on one socket, each building its own app (they share only PostgreSQL and
    Redis). X-Forwarded-For is believed from CONTEST_FORWARDED_ALLOW_IPS only, so rate limits see real clients.
    `app` is the factory to serve: the benchmarks serve a bare hello app under this same server."""
    _piccolo_env()
    os.environ["CONTEST_WEB_APP"] = app  # the setting its worker processes read (served_app)
    get_settings.cache_clear()
    s = get_settings().web
    if server == "granian":
        from granian.constants import Interfaces
        from granian.log import LogLevels
        from granian.server import Server

        Server(
            "contest.cli:served_app",
            address=s.host,
            port=s.port,
            interface=Interfaces.ASGI,
            workers=workers,
            factory=True,
            log_level=LogLevels.warning,
        ).serve()
        return
    import uvicorn

    uvicorn.run(
        s.app,
        factory=True,
        host=s.host,
        port=s.port,
        workers=workers,
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


def createadmin(email: str, name: str, password_stdin: bool = False) -> None:
    """The first admin account. The password comes from CONTEST_ADMIN_PASSWORD, or the first line of standard input
    (--password-stdin), or is asked for twice. While `contest run` runs, its private servers are found by themselves."""
    import getpass

    _piccolo_env()
    from contest.i18n import InputError
    from contest.staff.accounts import create_staff

    if not get_settings().db.url:
        raise SystemExit(_("Chưa có cơ sở dữ liệu: hãy đặt DATABASE_URL, hoặc chạy `make run` (contest run) trước."))
    password = get_settings().admin_password
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif not password:
        password = getpass.getpass(_("Mật khẩu: "))
        if getpass.getpass(_("Nhập lại mật khẩu: ")) != password:
            raise SystemExit(_("Hai lần nhập mật khẩu không khớp."))
    try:
        staff_id = asyncio.run(create_staff(email, name, "admin", password))
    except InputError as exc:
        raise SystemExit("\n".join(exc.messages().values())) from exc
    print(f"admin #{staff_id} {email} created; sign in at /staff/login")


def leaderboards(action: str, round_id: int | None = None) -> None:
    """Redis is a cache of PostgreSQL: rebuild the boards from it, or check them against it (exit 1 on differences)."""
    _piccolo_env()
    from contest.leaderboard import rebuild

    if action == "rebuild":
        for line in asyncio.run(rebuild.rebuild(round_id)) or ["no round has scored attempts"]:
            print(line)
        return
    reports = asyncio.run(rebuild.check(round_id))
    for report in reports:
        print("\n".join(report.lines()))
    if not reports:
        print("no round has scored attempts")
    if any(not report.ok for report in reports):
        raise SystemExit(1)


def questions(action: str, path: str, dry_run: bool = False, topic: str | None = None) -> None:
    """Import, export or write the blank template of the question bank (xlsx or UTF-8 CSV, by the file name)."""
    from pathlib import Path

    _piccolo_env()
    from contest.questions import export, transfer

    file = Path(path)
    if action == "template":
        file.write_bytes(export.template_file())
        print(f"template written to {file}")
        return
    if action == "export":
        file.write_bytes(asyncio.run(export.export_file(transfer.file_kind(file), topic, via="cli")))
        print(f"exported to {file}")
        return
    if not file.is_file():
        raise SystemExit(f"{file}: no such file")
    shown = {"last": 0}

    def progress(phase: str, done: int, total: int) -> None:
        # Big files only: one line, rewritten every thousand rows.
        if total >= 1000:
            text = _("kiểm tra: %(done)s/%(total)s dòng") if phase == "read" else _("ghi: %(done)s/%(total)s dòng")
            print("\r" + text % {"done": f"{done:>6,}", "total": f"{total:,}"}, end="", file=sys.stderr, flush=True)
            shown["last"] = done

    report = asyncio.run(transfer.import_questions(file.read_bytes(), file.name, dry_run=dry_run, progress=progress, via="cli"))
    if shown["last"]:
        print(file=sys.stderr)
    if not report.ok:
        lines = report.lines(_lang)
        raise SystemExit("\n".join([*lines, _("%(count)s lỗi, không câu hỏi nào được nhập.") % {"count": len(lines)}]))
    for line in report.change_lines(_lang):
        print(line)
    counts = {"new": report.new, "changed": report.changed, "unchanged": report.unchanged}
    if dry_run:
        print(
            _("%(count)s câu hỏi hợp lệ (chạy thử, chưa nhập): %(new)s mới, %(changed)s sửa, %(unchanged)s không đổi.")
            % {"count": report.rows, **counts}
        )
    else:
        print(
            _("đã nhập %(count)s câu hỏi mới, sửa %(changed)s câu hỏi (%(new)s mới, %(changed)s sửa, %(unchanged)s không đổi).")
            % {"count": report.imported, **counts}
        )


def certificates(action: str, round_id: int, out: str | None = None, kind: str | None = None, commune: int | None = None) -> None:
    """Award a round's certificates, or write its zip of PDFs, with a progress bar in the terminal."""
    _piccolo_env()
    from tqdm import tqdm

    from contest.certificates import design, files, service
    from contest.i18n import InputError, message

    bars: dict[str, tqdm] = {}

    def progress(phase: str, done: int, total: int) -> None:
        bar = bars.get(phase) or bars.setdefault(
            phase, tqdm(total=total, desc=phase, unit=" id" if phase == "participation" else "")
        )
        bar.update(done - bar.n)

    try:
        if action == "award":
            report = asyncio.run(service.award_round(round_id, progress=progress))
            for bar in bars.values():
                bar.close()
            print(f"participation: {report.participation}, prize: {report.prize}, collective: {report.collective}")
            for code in report.skipped or []:
                print("  ·", message(code))
            return

        async def load() -> tuple[list[dict], dict]:
            rows = await service.valid_of_round(round_id, kind, commune)
            return rows, await design.design_of(rows[0]["contest"]) if rows else {}

        rows, values = asyncio.run(load())
        path = files.build_zip(round_id, rows, values, lambda done, total: progress("render", done, total))
        for bar in bars.values():
            bar.close()
        if out:
            path = path.replace(out)
        print(f"{len(rows)} certificates in {path}")
    except InputError as exc:
        raise SystemExit("\n".join(exc.messages().values())) from exc


def privacy(action: str, dry_run: bool = False) -> None:
    """Anonymise the personal data of every contest past its retention period (Law 91/2025/QH15), reporting how many."""
    _piccolo_env()
    from contest.people.jobs import run_purge

    report = asyncio.run(run_purge(dry_run=dry_run))
    contests = ", ".join(map(str, report.contests)) or _("không có")
    print(_("cuộc thi hết thời hạn lưu: %(contests)s") % {"contests": contests})
    counts = {"anonymised": report.anonymised, "waiting": report.waiting}
    if dry_run:
        print(_("sẽ ẩn danh (chạy thử): %(anonymised)s đăng ký; chờ cuộc thi khác hết hạn: %(waiting)s") % counts)
    else:
        print(_("đã ẩn danh: %(anonymised)s đăng ký; chờ cuộc thi khác hết hạn: %(waiting)s") % counts)


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="contest", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--lang", choices=LANGUAGES, default=DEFAULT, help="the language of messages (vi, en)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="the whole system on http://127.0.0.1:8000")
    p_run.add_argument("--workers", type=int, default=2, help="RQ workers")
    p_run.add_argument("--web-workers", type=int, default=1, help="web server processes")
    sub.add_parser("migrate", help="apply migrations")
    p_demo = sub.add_parser("demo", help="load the demo contest")
    p_demo.add_argument("--all-provinces", action="store_true", help="load all 34 provinces / 3,321 communes")
    p_web = sub.add_parser("web", help="the web server")
    p_web.add_argument("--workers", type=int, default=1, help="processes (they share nothing but PostgreSQL and Redis)")
    p_web.add_argument("--app", default=APP, help=argparse.SUPPRESS)  # loadtests.bench_pages: the bare hello app
    p_web.add_argument("--server", choices=SERVERS, default=SERVER, help="the HTTP server (default %(default)s)")
    p_worker = sub.add_parser("worker", help="an RQ worker")
    p_worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    sub.add_parser("cron", help="the sweep scheduler")
    p_admin = sub.add_parser("createadmin", help="create an admin account (staff sign-in at /staff/login)")
    p_admin.add_argument("--email", required=True)
    p_admin.add_argument("--name", default="Quản trị viên")
    p_admin.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p_boards = sub.add_parser("leaderboards", help="rebuild Redis boards from PostgreSQL, or check them against it")
    b_sub = p_boards.add_subparsers(dest="action", required=True)
    for action, text in (
        ("rebuild", "drop and recompute every key of the round(s) from scored attempts"),
        ("check", "report every difference between Redis and PostgreSQL; exit 1 if any"),
    ):
        b_sub.add_parser(action, help=text).add_argument(
            "--round", dest="round_id", type=int, help="one round (default: every round with scored attempts)"
        )
    p_questions = sub.add_parser("questions", help="import / export the question bank (xlsx or CSV)")
    q_sub = p_questions.add_subparsers(dest="action", required=True)
    q_import = q_sub.add_parser("import", help="check every row, then import all or nothing")
    q_import.add_argument("file")
    q_import.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    q_export = q_sub.add_parser("export", help="the bank as .xlsx or .csv (UTF-8 with BOM), by the file name")
    q_export.add_argument("file")
    q_export.add_argument("--topic", help="one topic (slug)")
    q_template = q_sub.add_parser("template", help="the blank xlsx with instructions")
    q_template.add_argument("file")
    p_certs = sub.add_parser("certificates", help="award a round's certificates, or zip its PDFs")
    c_sub = p_certs.add_subparsers(dest="action", required=True)
    c_award = c_sub.add_parser("award", help="participation (pass mark), prizes and collective awards of published results")
    c_award.add_argument("--round", dest="round_id", type=int, required=True)
    c_zip = c_sub.add_parser("zip", help="render what is missing and write the round's valid certificates as one zip")
    c_zip.add_argument("--round", dest="round_id", type=int, required=True)
    c_zip.add_argument("--out", help="where to write the zip (default: the storage folder)")
    c_zip.add_argument("--kind", choices=("participation", "prize", "collective"))
    c_zip.add_argument("--commune", type=int, help="one commune's code")
    p_privacy = sub.add_parser("privacy", help="personal data: the retention purge")
    pr_sub = p_privacy.add_subparsers(dest="action", required=True)
    pr_purge = pr_sub.add_parser("purge", help="anonymise contestants of contests past their retention period")
    pr_purge.add_argument("--dry-run", action="store_true", help="count, change nothing")
    args = parser.parse_args(argv)
    global _lang
    _lang = args.lang
    match args.command:
        case "run":
            run(args.workers, args.web_workers)
        case "migrate":
            migrate()
        case "demo":
            demo(args.all_provinces)
        case "web":
            web(args.workers, args.app, args.server)
        case "worker":
            worker(args.burst)
        case "cron":
            cron()
        case "createadmin":
            createadmin(args.email, args.name, args.password_stdin)
        case "leaderboards":
            leaderboards(args.action, args.round_id)
        case "certificates":
            certificates(
                args.action,
                args.round_id,
                getattr(args, "out", None),
                getattr(args, "kind", None),
                getattr(args, "commune", None),
            )
        case "privacy":
            privacy(args.action, args.dry_run)
        case "questions":
            questions(args.action, args.file, getattr(args, "dry_run", False), getattr(args, "topic", None))


if __name__ == "__main__":
    main()
