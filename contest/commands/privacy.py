"""`contest privacy purge`: the retention purge of personal data."""

from __future__ import annotations

import asyncio

from contest.commands.operator import _, piccolo_env


def privacy(action: str, dry_run: bool = False) -> None:
    """Anonymise the personal data of every contest past its retention period (Law 91/2025/QH15), reporting how many."""
    piccolo_env()
    from contest.people.jobs import run_purge

    report = asyncio.run(run_purge(dry_run=dry_run))
    contests = ", ".join(map(str, report.contests)) or _("không có")
    print(_("cuộc thi hết thời hạn lưu: %(contests)s") % {"contests": contests})
    counts = {"anonymised": report.anonymised, "waiting": report.waiting}
    if dry_run:
        print(_("sẽ ẩn danh (chạy thử): %(anonymised)s đăng ký; chờ cuộc thi khác hết hạn: %(waiting)s") % counts)
    else:
        print(_("đã ẩn danh: %(anonymised)s đăng ký; chờ cuộc thi khác hết hạn: %(waiting)s") % counts)
