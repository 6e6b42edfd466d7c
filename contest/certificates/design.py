"""A contest's certificate design: what the organiser sets (wording, signer, images, award rules) and its version.

Images are checked and re-encoded by the renderer's `prepare_design_image` and kept in the private storage folder
by content hash. The version is a hash of every field and image name, so a change re-renders cached certificates.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from contest import clock, db
from contest.certificates import render, sample
from contest.contests.service import contest_row
from contest.contests.tables import COLLECTIVE_SORTS
from contest.digits import is_digits, read_int
from contest.i18n import InputError
from contest.settings import get_settings
from contest.staff.audit import audit
from contest.staff.signin import StaffUser
from contest.text import nfc

TEXT_FIELDS = {
    "issuer": 200,
    "place": 100,
    "signer_name": 120,
    "signer_title": 120,
    "participation_text": 600,
    "prize_text": 600,
    "collective_text": 600,
}
# Kept on several lines as typed: "ỦY BAN NHÂN DÂN / THÀNH PHỐ HẢI PHÒNG", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH" (Decree
# 30/2020/NĐ-CP puts the authority line and the title on lines of their own).
MULTILINE = {"issuer": 3, "signer_title": 3}
# Without these a certificate names nobody who issued it: nothing is awarded until the design has them.
REQUIRED = ("issuer", "signer_name")
IMAGES = ("background", "seal", "signature")
MAX_COLLECTIVE_TOP = 100
SAMPLE_NAMES = ("Nguyễn Thị Hồng Nhung", "Công Tằng Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc Trâm Anh")

DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(TEXT_FIELDS, ""),
    **dict.fromkeys(IMAGES, ""),
    "award_participation": True,
    "collective_top": 3,
    "collective_by": "people",
    "version": "",
}


def images_dir() -> Path:
    return get_settings().storage_dir / "designs"


def _version(values: dict[str, Any]) -> str:
    keep = {k: values.get(k) for k in (*TEXT_FIELDS, *IMAGES)}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


async def design_of(contest_id: int) -> dict[str, Any]:
    """The contest's design, or the built-in one when the organiser has not set anything."""
    rows = await db.raw("SELECT * FROM certificate_design WHERE contest = {}", contest_id)
    values = {**DEFAULTS, **(rows[0] if rows else {})}
    values["version"] = values["version"] or _version(values)
    return values


def parse_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The text fields and award rules of the editor's form, and message codes for what is wrong."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, limit in TEXT_FIELDS.items():
        lines = [" ".join(line.split()) for line in nfc(str(form.get(name, ""))).splitlines()]
        lines = [line for line in lines if line]
        most = MULTILINE.get(name, 1)
        if len(lines) > most:
            errors[name] = "text_too_many_lines"
        value = "\n".join(lines) if most > 1 else " ".join(lines)
        if len(value) > limit:
            errors[name] = "text_too_long"
        values[name] = value
    values["award_participation"] = str(form.get("award_participation", "")) in ("1", "on", "true")
    raw_top = str(form.get("collective_top", "3")).strip() or "0"
    if not is_digits(raw_top) or int(raw_top) > MAX_COLLECTIVE_TOP:
        errors["collective_top"] = "collective_top_invalid"
    values["collective_top"] = read_int(raw_top, 0)
    by = str(form.get("collective_by", "people"))
    values["collective_by"] = by if by in COLLECTIVE_SORTS else "people"
    return values, errors


def store_image(data: bytes, role: str) -> str:
    """Check and normalise an organiser's image; returns the file name it is kept under."""
    prepared = render.prepare_design_image(data, role)
    ext = "jpg" if role == "background" else "png"
    name = f"{role}-{hashlib.sha256(prepared).hexdigest()[:20]}.{ext}"
    folder = images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    if not target.exists():
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(prepared)
        tmp.replace(target)
    return name


async def save_design(
    actor: StaffUser, contest_id: int, form: Any, uploads: dict[str, bytes], remove: set[str]
) -> dict[str, Any]:
    """Check everything, then save the design in one statement (nothing is half-saved); returns it."""
    await contest_row(contest_id)
    values, errors = parse_form(form)
    current = await design_of(contest_id)
    for role in IMAGES:
        values[role] = "" if role in remove else current[role]
    params: dict[str, Any] = {"min": 0, "max": MAX_COLLECTIVE_TOP}
    for role, data in uploads.items():
        if not data:
            continue
        try:
            values[role] = store_image(data, role)
        except InputError as exc:
            errors[role] = exc.errors.get("image", "image_invalid")
            params.update(exc.params)
    if errors:
        raise InputError(errors, **params)
    await _write(contest_id, values)
    await audit(actor.id, "certificate.design", str(contest_id), version=values["version"])
    return await design_of(contest_id)


async def _write(contest_id: int, values: dict[str, Any]) -> None:
    values["version"] = _version(values)
    values["updated_at"] = clock.now()
    columns = list(values)
    await db.raw(
        f"INSERT INTO certificate_design (contest, {', '.join(columns)}) VALUES ({{}}, {', '.join('{}' for _ in columns)}) "
        f"ON CONFLICT (contest) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in columns)}",
        contest_id,
        *values.values(),
    )


async def save_sample(contest_id: int) -> None:
    """The demo's design (sample.py): issuer, signer on two lines, background, seal and signature."""
    values = {**parse_form(sample.TEXT)[0], **{role: store_image(data, role) for role, data in sample.uploads().items()}}
    await _write(contest_id, values)


def ready(values: dict[str, Any]) -> bool:
    """Whether certificates may be awarded with this design: it names the issuing body and the signer."""
    return all(str(values.get(name) or "").strip() for name in REQUIRED)


def wording(values: dict[str, Any], kind: str) -> str:
    return str(values.get(f"{kind}_text") or "")


def render_design(values: dict[str, Any], kind: str) -> render.Design:
    """The renderer's view of a design, for one kind of certificate."""
    folder = images_dir()

    def image(role: str) -> Path | None:
        name = values.get(role) or ""
        return folder / name if name and (folder / name).exists() else None

    return render.Design(
        issuer=values["issuer"],
        place=values["place"],
        signer_name=values["signer_name"],
        signer_title=values["signer_title"],
        wording=wording(values, kind),
        background=image("background"),
        seal=image("seal"),
        signature=image("signature"),
        version=values["version"],
    )
