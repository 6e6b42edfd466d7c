"""Staff accounts: creating them, invitations, and the admins' management of roles, communes and access."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

import asyncpg

from contest import clock, db
from contest.digits import is_digits
from contest.i18n import InputError
from contest.people.tables import Commune, Unit, unit_code, unit_id_of
from contest.staff.audit import audit
from contest.staff.signin import check_password_strength, hash_password, logout_everywhere
from contest.staff.tables import ROLES, Staff, StaffCommune, StaffUnit
from contest.text import person_name

INVITE_VALID = timedelta(days=7)


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
    await _bind(staff_id, communes or [])
    return staff_id


async def _bind(staff_id: int, codes: list[int]) -> None:
    """Bind an official to these collectives: communes, and units by their (negative) code."""
    for code in codes:
        unit = unit_id_of(code)
        await (
            StaffUnit.insert(StaffUnit(staff=staff_id, unit=unit))
            if unit
            else StaffCommune.insert(StaffCommune(staff=staff_id, commune=code))
        )


async def _bound(staff_id: int) -> list[int]:
    communes = await StaffCommune.select(StaffCommune.commune).where(StaffCommune.staff == staff_id)
    units = await StaffUnit.select(StaffUnit.unit).where(StaffUnit.staff == staff_id)
    return sorted([*(r["commune"] for r in communes), *(unit_code(r["unit"]) for r in units)])


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


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _codes(raw: list[str] | list[int]) -> tuple[list[int], bool]:
    """Commune codes (and units' negative codes) as ints, in order, without repeats; and whether any value was not a
    number."""
    codes: list[int] = []
    bad = False
    for value in raw:
        text = str(value).strip()
        if not text:
            continue
        digits = text.removeprefix("-")
        if not is_digits(digits) or len(digits) > 9:  # commune codes are 5 digits; longer would overflow the column
            bad = True
        elif int(text) not in codes:
            codes.append(int(text))
    return codes, bad


async def _check_access(role: str, raw_communes: list[str] | list[int], errors: dict[str, str]) -> list[int]:
    """The commune codes for this role (officials need at least one, every code must exist); problems go to `errors`."""
    if role not in ROLES:
        errors["role"] = "role_invalid"
        return []
    codes, bad = _codes(raw_communes)
    if role != "official":
        return []  # only officials are bound to communes
    communes, units = [c for c in codes if c > 0], [-c for c in codes if c < 0]
    known = {r["code"] for r in await Commune.select(Commune.code).where(Commune.code.is_in(communes))} if communes else set()
    known |= {unit_code(r["id"]) for r in await Unit.select(Unit.id).where(Unit.id.is_in(units))} if units else set()
    if bad or set(codes) - known:
        errors["communes"] = "communes_unknown"
    elif not codes:
        errors["communes"] = "communes_required"
    return codes


async def add_staff(actor_id: int, email: str, full_name: str, role: str, communes: list[str] | list[int]) -> tuple[int, str]:
    """An admin adds a staff account without a password; returns its id and the one-time invitation token."""
    errors: dict[str, str] = {}
    email = email.strip().lower()
    name = person_name(full_name)
    if not _EMAIL.match(email) or len(email) > 200:
        errors["email"] = "email_invalid"
    elif await Staff.exists().where(Staff.email == email):
        errors["email"] = "email_taken"
    if not 2 <= len(name) <= 100:
        errors["full_name"] = "name_required"
    codes = await _check_access(role, communes, errors)
    if errors:
        raise InputError(errors)
    try:
        async with Staff._meta.db.transaction():
            staff_id = await create_staff(email, name, role, communes=codes)
            token = await invite(staff_id)
            await audit(actor_id, "staff.create", email, subject=staff_id, role=role, communes=codes)
    except asyncpg.UniqueViolationError as exc:  # the same email added twice at once
        raise InputError({"email": "email_taken"}) from exc
    return staff_id, token


async def staff_list() -> list[dict]:
    """Every staff account, newest first, with its communes and whether it is locked or still invited."""
    rows = (
        await Staff.select(
            Staff.id,
            Staff.email,
            Staff.full_name,
            Staff.role,
            Staff.active,
            Staff.locked_until,
            Staff.password_hash,
            Staff.invite_expires,
            Staff.created_at,
        )
        .order_by(Staff.created_at, ascending=False)
        .order_by(Staff.id, ascending=False)
    )
    names = await _commune_names([r["id"] for r in rows])
    return [_describe(row, names.get(row["id"], [])) for row in rows]


async def staff_member(staff_id: int) -> dict | None:
    """One staff account as the admins' pages show it, or None."""
    row = await Staff.select().where(Staff.id == staff_id).first()
    if row is None:
        return None
    return _describe(row, (await _commune_names([staff_id])).get(staff_id, []))


def _describe(row: dict, communes: list[dict]) -> dict:
    now = clock.now()
    invite_expires = row["invite_expires"]
    return {
        "id": row["id"],
        "email": row["email"],
        "full_name": row["full_name"],
        "role": row["role"],
        "active": row["active"],
        "created_at": row["created_at"],
        "communes": communes,
        "locked": bool(row["locked_until"] and row["locked_until"] > now),
        "has_password": bool(row["password_hash"]),
        "invite_pending": bool(invite_expires and invite_expires > now),
        "invite_expired": bool(invite_expires and invite_expires <= now),
    }


async def _commune_names(staff_ids: list[int]) -> dict[int, list[dict]]:
    if not staff_ids:
        return {}
    rows = await (
        StaffCommune.select(
            StaffCommune.staff,
            StaffCommune.commune.as_alias("code"),
            StaffCommune.commune.name.as_alias("name"),
            StaffCommune.commune.province.name.as_alias("province"),  # type: ignore[union-attr]
        )
        .where(StaffCommune.staff.is_in(staff_ids))
        .order_by(StaffCommune.commune.name)
    )
    units = await StaffUnit.select(
        StaffUnit.staff,
        StaffUnit.unit.as_alias("id"),
        StaffUnit.unit.name.as_alias("name"),
        StaffUnit.unit.contest.title.as_alias("contest"),  # type: ignore[union-attr]
    ).where(StaffUnit.staff.is_in(staff_ids))
    out: dict[int, list[dict]] = {}
    for r in rows:
        out.setdefault(r["staff"], []).append({"code": r["code"], "name": r["name"], "province": r["province"]})
    for r in units:  # a unit's contest stands where a commune's province does
        out.setdefault(r["staff"], []).append({"code": unit_code(r["id"]), "name": r["name"], "province": r["contest"]})
    return out


async def communes_by_province() -> list[dict]:
    """Every commune, grouped by province (both by name): the choices for binding an official."""
    rows = (
        await Commune.select(Commune.code, Commune.name, Commune.province, Commune.province.name.as_alias("province_name"))
        .order_by(Commune.province.name)
        .order_by(Commune.name)
    )
    groups: dict[int | str, dict] = {}
    for r in rows:
        group = groups.setdefault(r["province"], {"code": r["province"], "name": r["province_name"], "communes": []})
        group["communes"].append({"code": r["code"], "name": r["name"]})
    # The units of contests with their own units, one group per contest, by their (negative) codes.
    units = await db.raw(
        "SELECT u.id, u.name, c.id AS contest, c.title FROM unit u JOIN contest c ON c.id = u.contest "
        "WHERE c.collectives = 'units' ORDER BY c.id DESC, u.position, u.id"
    )
    for r in units:
        group = groups.setdefault(f"c{r['contest']}", {"code": f"c{r['contest']}", "name": r["title"], "communes": []})
        group["communes"].append({"code": unit_code(r["id"]), "name": r["name"]})
    return list(groups.values())


async def _target(staff_id: int) -> dict:
    row = await Staff.select(Staff.id, Staff.email, Staff.role, Staff.active).where(Staff.id == staff_id).first()
    if row is None:
        raise InputError({"staff": "staff_not_found"})
    return row


async def change_access(actor_id: int, staff_id: int, role: str, communes: list[str] | list[int]) -> None:
    """Set a staff member's role and, for officials, their communes; an admin cannot demote themselves."""
    target = await _target(staff_id)
    errors: dict[str, str] = {}
    codes = await _check_access(role, communes, errors)
    if staff_id == actor_id and target["role"] == "admin" and role != "admin":
        errors["role"] = "staff_self_demote"
    if errors:
        raise InputError(errors)
    before = await _bound(staff_id)
    async with Staff._meta.db.transaction():
        if role != target["role"]:
            await Staff.update({Staff.role: role}).where(Staff.id == staff_id)
            await audit(actor_id, "staff.role", target["email"], subject=staff_id, before=target["role"], after=role)
        if sorted(codes) != before:
            await StaffCommune.delete().where(StaffCommune.staff == staff_id)
            await StaffUnit.delete().where(StaffUnit.staff == staff_id)
            await _bind(staff_id, codes)
            await audit(actor_id, "staff.communes", target["email"], subject=staff_id, before=before, after=sorted(codes))


async def set_active(actor_id: int, staff_id: int, active: bool) -> None:
    """Deactivate (ending every session) or reactivate an account; an admin cannot deactivate themselves."""
    target = await _target(staff_id)
    if not active and staff_id == actor_id:
        raise InputError({"staff": "staff_self_deactivate"})
    if target["active"] == active:
        return
    # Bumping the epoch too: sessions from before a deactivation stay dead after a reactivation.
    await Staff.update({Staff.active: active, Staff.session_epoch: Staff.session_epoch + (0 if active else 1)}).where(
        Staff.id == staff_id
    )
    await audit(actor_id, "staff.reactivate" if active else "staff.deactivate", target["email"], subject=staff_id)


async def unlock(actor_id: int, staff_id: int) -> None:
    """Lift a lockout after wrong passwords."""
    target = await _target(staff_id)
    await Staff.update({Staff.locked_until: None, Staff.failed_logins: 0}).where(Staff.id == staff_id)
    await audit(actor_id, "staff.unlock", target["email"], subject=staff_id)


async def reinvite(actor_id: int, staff_id: int) -> str:
    """A new one-time invitation token (the previous one stops working)."""
    target = await _target(staff_id)
    token = await invite(staff_id)
    await audit(actor_id, "staff.invite", target["email"], subject=staff_id)
    return token


async def log_out_staff(actor_id: int, staff_id: int) -> None:
    """An admin ends every session of a staff member."""
    target = await _target(staff_id)
    await logout_everywhere(staff_id, actor_id)
    await audit(actor_id, "staff.logout_everywhere", target["email"], subject=staff_id)


async def invited_email(token: str) -> str | None:
    """The email an unexpired invitation token is for, or None."""
    row = (
        await Staff.select(Staff.email, Staff.invite_expires)
        .where(Staff.invite_token_hash == hashlib.sha256(token.encode()).hexdigest())
        .first()
    )
    if row is None or row["invite_expires"] is None or row["invite_expires"] < clock.now():
        return None
    return str(row["email"])


async def accept_invitation(token: str, password: str, repeat: str) -> int:
    """Set the password from an invitation, typed twice; recorded in the audit log."""
    if password != repeat:
        raise InputError({"password": "password_mismatch"})
    staff_id = await accept_invite(token, password)
    email = (await _target(staff_id))["email"]
    await audit(staff_id, "invite.accepted", email)
    return staff_id
