"""Staff sign-in: passwords (argon2), lockout after wrong passwords, sessions and logging out everywhere."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from contest import clock
from contest.i18n import InputError
from contest.staff.audit import audit
from contest.staff.tables import Staff, StaffCommune

_hasher = PasswordHasher()
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 10


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


async def authenticate(email: str, password: str) -> StaffUser:
    """Check a login; five failures in a row lock the account for 15 minutes."""
    now = clock.now()
    row = await Staff.select().where(Staff.email == email.strip().lower()).first()
    if row is None or not row["active"] or not row["password_hash"]:
        await asyncio.to_thread(_hasher.hash, password)  # same work either way: no hint which emails exist
        raise InputError({"email": "login_failed"})
    if row["locked_until"] and row["locked_until"] > now:
        raise InputError({"email": "login_locked"}, minutes=int(LOCKOUT.total_seconds() // 60))
    try:
        # argon2 is deliberately slow: off the event loop, so a sign-in never holds up contestants' requests.
        await asyncio.to_thread(_hasher.verify, row["password_hash"], password)
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


async def logout_everywhere(staff_id: int, actor_id: int | None = None) -> None:
    """Every session of this person stops working (recorded as done by actor_id, themselves by default)."""
    await Staff.update({Staff.session_epoch: Staff.session_epoch + 1}).where(Staff.id == staff_id)
    if actor_id is None or actor_id == staff_id:
        await audit(staff_id, "logout.everywhere", "")
