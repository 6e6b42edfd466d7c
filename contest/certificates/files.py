"""Rendered certificates on disk: rendered once per design version, cached in the storage folder; round zips.

A cached file is named by the certificate's code and the design's version, so editing the design makes new
files on the next request and old ones are never served. Files are written to a temporary name and renamed,
so a reader never sees half a file even when two workers render the same certificate.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contest.certificates import design, render
from contest.clock import VN_TZ
from contest.formatting import points
from contest.i18n import message
from contest.settings import get_settings
from contest.text import fold

FORMATS = ("pdf", "png")
MEDIA_TYPES = {"pdf": "application/pdf", "png": "image/png", "zip": "application/zip"}


def cache_path(cert: dict[str, Any], version: str, fmt: str) -> Path:
    return get_settings().storage_dir / "certificates" / str(cert["contest"]) / f"{cert['code']}-{version}.{fmt}"


def zips_dir() -> Path:
    return get_settings().storage_dir / "zips"


def forget_renders(certificates: list[dict[str, Any]]) -> None:
    """Remove the rendered PDFs/PNGs of these certificates and their rounds' zips, e.g. once the holder's name is
    erased: they print the old name (they are rendered again on request)."""
    for cert in certificates:
        for fmt in FORMATS:
            pattern = cache_path(cert, "*", fmt)
            for path in pattern.parent.glob(pattern.name):
                path.unlink(missing_ok=True)
    for round_id in {c["round"] for c in certificates if c["round"] is not None}:
        for path in zips_dir().glob(f"round-{round_id}-*.zip"):
            path.unlink(missing_ok=True)


def verify_url(code: str) -> str:
    return f"{get_settings().public_url}/verify/{code}"


def face_of(cert: dict[str, Any]) -> render.Face:
    """What one certificate says, in the document's own (Vietnamese) words from the catalog."""
    detail = ""
    if cert["points"] is not None and cert["total"]:
        detail = message("detail", "vi", section="certificate", correct=points(cert["points"], "vi"), total=cert["total"])
    return render.Face(
        kind=cert["kind"],
        code=cert["code"],
        holder=cert["holder"],
        commune="" if cert["kind"] == "collective" else cert["commune_name"],
        contest_title=cert["contest_title"],
        round_title=cert["round_title"] or "",
        prize=cert["prize"],
        detail=detail,
        issued_on=cert["issued_at"].astimezone(VN_TZ).date(),
        verify_url=verify_url(cert["code"]),
    )


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    tmp.write_bytes(data)
    tmp.replace(target)


def cached(cert: dict[str, Any], values: dict[str, Any], fmt: str) -> Path | None:
    """The rendered file when it is there for the current design, else None."""
    path = cache_path(cert, values["version"], fmt)
    return path if path.exists() else None


def render_cert(cert: dict[str, Any], values: dict[str, Any], formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """Render what is missing of one certificate (PDF for print, PNG for phones) and return the files."""
    out: dict[str, Path] = {}
    face = face_of(cert)
    for fmt in formats:
        path = cache_path(cert, values["version"], fmt)
        if not path.exists():
            look = design.render_design(values, cert["kind"])
            _write(path, render.render_pdf(look, face) if fmt == "pdf" else render.render_png(look, face))
        out[fmt] = path
    return out


def _slug(text: str) -> str:
    return fold(text).replace(" ", "-")[:60] or "x"


def zip_name(cert: dict[str, Any]) -> str:
    """Where a certificate goes in a round's zip: a folder per commune, the kind, the holder and the code."""
    return f"{_slug(cert['commune_name'])}/{cert['kind']}-{_slug(cert['holder'])}-{cert['code']}.pdf"


def build_zip(
    round_id: int, rows: list[dict[str, Any]], values: dict[str, Any], progress: Callable[[int, int], None] | None = None
) -> Path:
    """Render what is missing and pack the PDFs of these certificates into one zip; returns its path."""
    folder = zips_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"round-{round_id}-{secrets.token_hex(8)}.zip"
    tmp = target.with_name(f".{target.name}.tmp")
    # PDFs are compressed already: stored, not deflated again.
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for done, cert in enumerate(rows, 1):
            archive.write(render_cert(cert, values, ("pdf",))["pdf"], zip_name(cert))
            if progress and (done % 50 == 0 or done == len(rows)):
                progress(done, len(rows))
    tmp.replace(target)
    return target
