"""Staff accounts: passwords (argon2), lockout, logging out everywhere, the audit log."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from contest import clock
from contest.i18n import InputError
from contest.staff.tables import ROLES, AuditEntry, Staff, StaffCommune

_hasher = PasswordHasher()
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10
INVITE_VALID = timedelta(days=7)


@dataclass(frozen=True)
class StaffUser:
    """The signed-in staff member, as guards and pages see them."""

    id: int
    email: str
    full_name: str
    role: str
    epoch: int
    communes: tuple[int, ...]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha():
        raise InputError({"password": "password_weak"}, min=MIN_PASSWORD)


async def create_staff(
    email: str, full_name: str, role: str, password: str | None = None, communes: list[int] | None = None
) -> int:
    """A staff account; without a password it waits for its invitation to be accepted."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 200:
        raise InputError({"email": "email_invalid"})
    if role not in ROLES:
        raise InputError({"role": "role_invalid"})
    if await Staff.exists().where(Staff.email == email):
        raise InputError({"email": "email_taken"})
    if password is not None:
        check_password_strength(password)
    rows = await Staff.insert(
        Staff(
            email=email,
            full_name=full_name.strip(),
            role=role,
            created_at=clock.now(),
            password_hash=hash_password(password) if password else "",
        )
    ).returning(Staff.id)
    staff_id = int(rows[0]["id"])
    for code in communes or []:
        await StaffCommune.insert(StaffCommune(staff=staff_id, commune=code))
    return staff_id


async def invite(staff_id: int) -> str:
    """A one-time token to set a password (valid a week); only its hash is stored."""
    token = secrets.token_urlsafe(24)
    await Staff.update(
        {Staff.invite_token_hash: hashlib.sha256(token.encode()).hexdigest(), Staff.invite_expires: clock.now() + INVITE_VALID}
    ).where(Staff.id == staff_id)
    return token


async def accept_invite(token: str, password: str) -> int:
    """Set the password of the invited account; the token then stops working."""
    check_password_strength(password)
    row = (
        await Staff.select(Staff.id, Staff.invite_expires)
        .where(Staff.invite_token_hash == hashlib.sha256(token.encode()).hexdigest())
        .first()
    )
    if row is None or row["invite_expires"] is None or row["invite_expires"] < clock.now():
        raise InputError({"token": "invite_invalid"})
    await Staff.update(
        {
            Staff.password_hash: hash_password(password),
            Staff.invite_token_hash: None,
            Staff.invite_expires: None,
            Staff.failed_logins: 0,
            Staff.locked_until: None,
        }
    ).where(Staff.id == row["id"])
    return int(row["id"])


async def authenticate(email: str, password: str) -> StaffUser:
    """Check a login; five failures in a row lock the account for 15 minutes."""
    now = clock.now()
    row = await Staff.select().where(Staff.email == email.strip().lower()).first()
    if row is None or not row["active"] or not row["password_hash"]:
        _hasher.hash(password)  # same work either way: no hint which emails exist
        raise InputError({"email": "login_failed"})
    if row["locked_until"] and row["locked_until"] > now:
        raise InputError({"email": "login_locked"}, minutes=int(LOCKOUT.total_seconds() // 60))
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        failures = row["failed_logins"] + 1
        locked = now + LOCKOUT if failures >= MAX_FAILURES else None
        await Staff.update({Staff.failed_logins: 0 if locked else failures, Staff.locked_until: locked}).where(
            Staff.id == row["id"]
        )
        await audit(row["id"], "login.failed", row["email"])
        if locked:
            raise InputError({"email": "login_locked"}, minutes=int(LOCKOUT.total_seconds() // 60)) from None
        raise InputError({"email": "login_failed"}) from None
    await Staff.update({Staff.failed_logins: 0, Staff.locked_until: None}).where(Staff.id == row["id"])
    await audit(row["id"], "login", row["email"])
    user = await staff_user(row["id"], row["session_epoch"])
    assert user is not None
    return user


async def staff_user(staff_id: int, epoch: int) -> StaffUser | None:
    """The staff member behind a session, or None if the session is stale (deactivated, logged out everywhere)."""
    row = await Staff.select().where(Staff.id == staff_id).first()
    if row is None or not row["active"] or row["session_epoch"] != epoch:
        return None
    communes = await StaffCommune.select(StaffCommune.commune).where(StaffCommune.staff == staff_id)
    return StaffUser(
        row["id"],
        row["email"],
        row["full_name"],
        row["role"],
        row["session_epoch"],
        tuple(sorted(c["commune"] for c in communes)),
    )


async def logout_everywhere(staff_id: int) -> None:
    """Every session of this person stops working."""
    await Staff.update({Staff.session_epoch: Staff.session_epoch + 1}).where(Staff.id == staff_id)
    await audit(staff_id, "logout.everywhere", "")


async def audit(staff_id: int | None, action: str, target: str, **detail: Any) -> None:
    """Record who did what, when."""
    await AuditEntry.insert(
        AuditEntry(staff=staff_id, action=action, target=target[:200], detail=json.dumps(detail, default=str), at=clock.now())
    )


async def audit_log(limit: int = 200, before: datetime | None = None) -> list[dict]:
    """Newest first, with who did it."""
    query = (
        AuditEntry.select(*AuditEntry.all_columns(), AuditEntry.staff.email.as_alias("email"))
        .order_by(AuditEntry.at, ascending=False)
        .limit(limit)
    )
    if before is not None:
        query = query.where(AuditEntry.at < before)
    return await query
