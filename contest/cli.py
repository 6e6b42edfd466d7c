"""The `contest` command: what the Makefile calls.

contest run [--workers N] [--web-workers N]   the whole system: PostgreSQL, Redis, migrations, demo, workers, scheduler, web
contest migrate    apply Piccolo migrations
contest demo       load the demo contest (idempotent)
contest web [--workers N]   the web server only (N processes)
contest worker     one RQ worker (scoring)
contest cron       the scheduler that enqueues the sweep (auto-submit, re-kick, re-rank)
contest leaderboards rebuild [--round N]   rebuild Redis boards from PostgreSQL (one round, or every round with scores)
contest leaderboards check [--round N]     compare Redis with PostgreSQL, change nothing; exits 1 on differences
contest certificates award --round N | zip --round N [--layout communes] [--out FILE]   a round's certificates
contest questions import FILE [--dry-run] | export FILE [--topic SLUG] | template FILE   the question bank as xlsx/CSV/zip
contest privacy purge [--dry-run]   anonymise personal data of contests past their retention period (also daily from cron)

Each command imports what it needs inside its function, on purpose (not to dodge a cycle): table modules may only be
imported after `piccolo_env()` points Piccolo at piccolo_conf, `contest --help` stays fast without the app, fonts and
reportlab, and the worker imports its heavy job modules itself, once, before RQ forks.
"""

from __future__ import annotations

import argparse

from contest.commands import certificates, leaderboards, privacy, processes, questions, staff
from contest.commands.operator import set_language
from contest.commands.processes import APP, SERVER, SERVERS
from contest.i18n import DEFAULT, LANGUAGES


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
    c_zip.add_argument(
        "--layout", choices=("files", "communes"), default="files", help="one PDF per certificate, or per commune (for print)"
    )
    p_privacy = sub.add_parser("privacy", help="personal data: the retention purge")
    pr_sub = p_privacy.add_subparsers(dest="action", required=True)
    pr_purge = pr_sub.add_parser("purge", help="anonymise contestants of contests past their retention period")
    pr_purge.add_argument("--dry-run", action="store_true", help="count, change nothing")
    args = parser.parse_args(argv)
    set_language(args.lang)
    match args.command:
        case "run":
            processes.run(args.workers, args.web_workers)
        case "migrate":
            processes.migrate()
        case "demo":
            processes.demo(args.all_provinces)
        case "web":
            processes.web(args.workers, args.app, args.server)
        case "worker":
            processes.worker(args.burst)
        case "cron":
            processes.cron()
        case "createadmin":
            staff.createadmin(args.email, args.name, args.password_stdin)
        case "leaderboards":
            leaderboards.leaderboards(args.action, args.round_id)
        case "certificates":
            certificates.certificates(
                args.action,
                args.round_id,
                getattr(args, "out", None),
                getattr(args, "kind", None),
                getattr(args, "commune", None),
                getattr(args, "layout", "files"),
            )
        case "privacy":
            privacy.privacy(args.action, args.dry_run)
        case "questions":
            questions.questions(args.action, args.file, getattr(args, "dry_run", False), getattr(args, "topic", None))


if __name__ == "__main__":
    main()
