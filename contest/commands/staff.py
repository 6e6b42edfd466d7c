"""`contest createadmin`: the first admin account."""

from __future__ import annotations

import asyncio
import sys

from contest.commands.operator import _, piccolo_env
from contest.settings import get_settings


def createadmin(email: str, name: str, password_stdin: bool = False) -> None:
    """The first admin account. The password comes from CONTEST_ADMIN_PASSWORD, or the first line of standard input
    (--password-stdin), or is asked for twice. While `contest run` runs, its private servers are found by themselves."""
    import getpass

    piccolo_env()
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
