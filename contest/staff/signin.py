"""Staff sign-in: passwords (argon2), lockout after wrong passwords, sessions and logging out everywhere."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from contest import clock, db
from contest.i18n import InputError
from contest.people.tables import unit_code
from contest.staff.audit import audit
from contest.staff.tables import Staff, StaffCommune, StaffUnit

# argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane: about 28 ms of one core here). argon2-cffi's
# default (64 MiB, 3 passes, 4 lanes) cost 209 ms of CPU per check: at a deadline the officials signing in took
# more than half of the web processes' CPU (BENCHMARKS (c)). Hashes made with other parameters are redone at the
# next successful sign-in.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# One check at a time per web process (and event loop): sign-ins queue among themselves and never take both cores
# from contestants.
_checking: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
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
    # The collectives an official sees: commune codes, and unit codes (negative, people.tables.unit_code).
    communes: tuple[int, ...]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD or password.isdigit() or password.isalpha():
        raise InputError({"password": "password_weak"}, min=MIN_PASSWORD)


@cache
def _dummy_hash() -> str:
    """What an unknown email's password is checked against: the same argon2 work as a real account."""
    return _hasher.hash("no account has this password")


def _refused() -> InputError:
    """One answer for an unknown email, a wrong password and a locked account: none tells which emails exist."""
    return InputError({"email": "login_failed"}, max=MAX_FAILURES, minutes=int(LOCKOUT.total_seconds() // 60))


async def _verify(password_hash: str, password: str) -> bool:
    # argon2 is deliberately slow: off the event loop, so a sign-in never holds up contestants' requests.
    try:
        async with _checking.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(1)):
            return await asyncio.to_thread(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """A hash made with other parameters than today's (an older default): redone at the next sign-in."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


async def _count_failure(staff_id: int) -> None:
    """One more wrong password, counted in the row itself so that wrong passwords sent at once each count;
    the one that makes MAX_FAILURES locks the account and starts the count again."""
    now = clock.now()
    await db.fetch(
        "UPDATE staff SET"
        " failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,"
        " locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END"
        " WHERE id = $1",
        staff_id,
        MAX_FAILURES,
        now + LOCKOUT,
    )


async def authenticate(email: str, password: str) -> StaffUser:
    """Check a login; five failures in a row lock the account for 15 minutes."""
    row = await Staff.select().where(Staff.email == email.strip().lower()).first()
    if row is None or not row["active"] or not row["password_hash"]:
        await _verify(_dummy_hash(), password)  # same work either way: no hint which emails exist
        raise _refused()
    right = await _verify(row["password_hash"], password)  # a locked account too, so it answers as slowly
    if row["locked_until"] and row["locked_until"] > clock.now():
        raise _refused()
    if not right:
        await _count_failure(row["id"])
        await audit(row["id"], "login.failed", row["email"], outcome="failed")
        raise _refused()
    changes: dict = {Staff.failed_logins: 0, Staff.locked_until: None}
    if needs_rehash(row["password_hash"]):
        changes[Staff.password_hash] = await asyncio.to_thread(hash_password, password)
    await Staff.update(changes).where(Staff.id == row["id"])
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
    units = await StaffUnit.select(StaffUnit.unit).where(StaffUnit.staff == staff_id)
    return StaffUser(
        row["id"],
        row["email"],
        row["full_name"],
        row["role"],
        row["session_epoch"],
        tuple(sorted([*(c["commune"] for c in communes), *(unit_code(u["unit"]) for u in units)])),
    )


async def logout_everywhere(staff_id: int, actor_id: int | None = None) -> None:
    """Every session of this person stops working (recorded as done by actor_id, themselves by default)."""
    await Staff.update({Staff.session_epoch: Staff.session_epoch + 1}).where(Staff.id == staff_id)
    if actor_id is None or actor_id == staff_id:
        await audit(staff_id, "logout.everywhere", "")
