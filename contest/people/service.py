"""Contestants and communes: registration, identification, the commune list."""

from __future__ import annotations

import re
from dataclasses import dataclass

import asyncpg
from vietnam_provinces import Province as VnProvince
from vietnam_provinces import Ward as VnWard

from contest import clock, db
from contest.contests.tables import IN_AREA, IN_GROUPS
from contest.digits import read_int
from contest.i18n import InputError
from contest.leaderboard.counters import count_registration
from contest.people.phone import normalise_phone
from contest.people.privacy import consent_version
from contest.people.tables import GROUPS, Commune, Contestant, Province, unit_code
from contest.redis import async_redis
from contest.text import draws_blank, person_name

_NAME = re.compile(r"^[^\W\d_]+(?: [^\W\d_]+)*$")


@dataclass
class Registration:
    full_name: str
    phone: str
    birth_year: str | int
    province: str | int
    commune: str | int
    group: str
    consent: bool
    # The consent text version the form or app showed; None takes the current one.
    consent_version: str | None = None
    # In a contest with its own units: the unit's id, asked instead of province and commune.
    unit: str | int = ""


# The commune a registration names (it exists, in the province named) or, in a contest with its own units, the unit
# (one of the contest's that people join), and whether the contest admits the place and the group (see IN_AREA and
# IN_GROUPS; a unit contest's units are its area): one round trip.
_PLACE = f"""
SELECT c.collectives = 'units' AS units,
    m.code IS NOT NULL AND ($3::int IS NULL OR m.province = $3::int) AS commune_ok,
    EXISTS (SELECT 1 FROM unit u WHERE u.id = $5 AND u.contest = c.id
            AND NOT EXISTS (SELECT 1 FROM unit k WHERE k.parent = u.id)) AS unit_ok,
    c.collectives = 'units' OR {IN_AREA} AS place, {IN_GROUPS} AS grp
FROM contest c LEFT JOIN commune m ON m.code = $2 CROSS JOIN (SELECT $4::text AS "group") p WHERE c.id = $1
"""
_INSERT = (
    'INSERT INTO contestant (contest, full_name, phone, birth_year, commune, "group", consented_at, consent_version, '
    "created_at, registered_ip, preview, unit) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $9, false, $10) RETURNING id"
)


def _int4(value: str | int) -> int | None:
    """A code or id as typed; past an int it names nothing (matches no row)."""
    number = read_int(value)
    return number if number is not None and number < 2**31 else None


async def validate(contest_id: int, reg: Registration) -> dict:
    """Check a registration; return clean values or raise InputError with every problem at once. A contest with its
    own units asks for one of them (`unit`) instead of a province and commune."""
    errors: dict[str, str] = {}
    name = person_name(reg.full_name)
    if not 2 <= len(name) <= 100:
        errors["full_name"] = "name_required"
    elif not _NAME.match(name) or draws_blank(name):
        errors["full_name"] = "name_invalid"
    phone = normalise_phone(reg.phone or "")
    if phone is None:
        errors["phone"] = "phone_invalid"
    this_year = clock.now().year
    year = read_int(reg.birth_year)
    if year is None or not this_year - 100 <= year <= this_year - 6:
        errors["birth_year"] = "birth_year_invalid"
    commune_code, unit_id = _int4(reg.commune), _int4(reg.unit)
    province = read_int(reg.province)
    # A province code past an int names no province: it matches no commune.
    rows = await db.fetch(_PLACE, contest_id, commune_code, province if (province or 0) < 2**31 else 0, reg.group, unit_id)
    if not rows:
        raise InputError({"contest": "contest_not_found"})
    place = rows[0]
    if place["units"]:
        commune_code = None
        if not place["unit_ok"]:
            errors["unit"] = "unit_invalid"
    else:
        unit_id = None
        if not place["commune_ok"]:
            errors["commune"] = "commune_invalid"
    if reg.group not in GROUPS:
        errors["group"] = "group_invalid"
    if not reg.consent:
        errors["consent"] = "consent_required"
    elif reg.consent_version not in (None, "", consent_version()):
        errors["consent"] = "consent_outdated"  # the text changed since the form was shown: read it again
    if errors:
        raise InputError(errors, min=this_year - 100, max=this_year - 6)
    # Who the contest admits (by place and group), once the form is right.
    if not place["place"]:
        errors["commune"] = "not_eligible_place"
    if not place["grp"]:
        errors["group"] = "not_eligible_group"
    if errors:
        raise InputError(errors)
    return {"full_name": name, "phone": phone, "birth_year": year, "commune": commune_code, "unit": unit_id, "group": reg.group}


async def register(contest_id: int, reg: Registration, ip: str | None = None) -> int:
    """Register a contestant for a contest; one registration per phone. Returns the contestant id."""
    clean = await validate(contest_id, reg)
    now = clock.now()
    try:
        rows = await db.fetch(
            _INSERT,
            contest_id,
            clean["full_name"],
            clean["phone"],
            clean["birth_year"],
            clean["commune"],
            clean["group"],
            now,
            consent_version(),
            ip,
            clean["unit"],
        )
    except asyncpg.UniqueViolationError as exc:
        raise InputError({"phone": "phone_taken"}) from exc
    collective = unit_code(clean["unit"]) if clean["unit"] is not None else clean["commune"]
    await count_registration(async_redis(), contest_id, collective, clean["group"])
    return int(rows[0]["id"])


async def identify(contest_id: int, phone: str, birth_year: str | int) -> int:
    """A returning contestant: phone + year of birth, no password."""
    normal = normalise_phone(phone or "")
    year = read_int(birth_year)
    if normal is None:
        raise InputError({"phone": "phone_invalid"})
    row = await (
        Contestant.select(Contestant.id)
        .where((Contestant.contest == contest_id) & (Contestant.phone == normal) & (Contestant.birth_year == year))
        .first()
    )
    if row is None:
        raise InputError({"phone": "not_registered"})
    return int(row["id"])


async def contestant(contestant_id: int) -> dict | None:
    """One contestant with commune and province names (in a contest with its own units: the unit's name as the
    commune's, no province)."""
    row = await (
        Contestant.select(
            *Contestant.all_columns(),
            Contestant.commune.name.as_alias("commune_name"),
            Contestant.commune.province.name.as_alias("province_name"),  # type: ignore[union-attr]
            Contestant.unit.name.as_alias("unit_name"),
        )
        .where(Contestant.id == contestant_id)
        .first()
    )
    if row is not None and row["unit"] is not None:
        row["commune_name"], row["province_name"] = row["unit_name"], ""
    return row


async def provinces(contest_id: int | None = None) -> list[dict]:
    """Every province by name; for a contest, only those with a commune it admits."""
    if contest_id is None:
        return await Province.select().order_by(Province.name)
    rows = await db.fetch(
        f"SELECT DISTINCT v.code, v.name FROM contest c JOIN commune m ON {IN_AREA} JOIN province v ON v.code = m.province "
        "WHERE c.id = $1 ORDER BY v.name",
        contest_id,
    )
    return [dict(r) for r in rows]


async def communes_of(province_code: int, contest_id: int | None = None) -> list[dict]:
    """The communes of one province by name; for a contest, only those it admits."""
    if contest_id is None:
        return await Commune.select(Commune.code, Commune.name).where(Commune.province == province_code).order_by(Commune.name)
    rows = await db.fetch(
        f"SELECT m.code, m.name FROM contest c JOIN commune m ON m.province = $2 AND {IN_AREA} WHERE c.id = $1 ORDER BY m.name",
        contest_id,
        province_code,
    )
    return [dict(r) for r in rows]


def admitted_groups(named: list[str] | None) -> list[str]:
    """The contestant groups a contest admits, in the usual order (every group when it names none)."""
    return [g for g in GROUPS if not named or g in named]


async def communes_named(codes: list[int]) -> list[dict]:
    """These communes' codes and names (codes that name no commune are left out)."""
    if not codes:
        return []
    return await Commune.select(Commune.code, Commune.name).where(Commune.code.is_in(list(codes)))


async def load_communes(province_codes: list[int] | None = None) -> int:
    """Load provinces and communes from vietnam-provinces (all 34/3,321 when no codes). Idempotent."""
    wanted = [p for p in VnProvince.iter_all() if province_codes is None or int(p.code) in province_codes]
    prov_rows = [(int(p.code), p.name) for p in wanted]
    ward_rows = [(int(w.code), w.name, int(p.code)) for p in wanted for w in VnWard.iter_by_province(p.code)]
    await db.raw(
        "INSERT INTO province (code, name) SELECT * FROM unnest({}::int[], {}::text[]) "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name",
        [r[0] for r in prov_rows],
        [r[1] for r in prov_rows],
    )
    await db.raw(
        "INSERT INTO commune (code, name, province) SELECT * FROM unnest({}::int[], {}::text[], {}::int[]) "
        "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, province = EXCLUDED.province",
        [r[0] for r in ward_rows],
        [r[1] for r in ward_rows],
        [r[2] for r in ward_rows],
    )
    return len(ward_rows)
