"""Rendered certificates on disk: rendered once per design version and site address, cached in the storage folder,
and the purge of what is no longer served (a round's bundles are built in bundles.py, kept in zips_dir()).

A cached file is named by the certificate's code and its render key (the design's version and the public address
its QR code prints), so editing the design or moving the site makes new files on the next request and old ones are
never served; the purge removes them. Files are written to a temporary name and renamed, so a reader never sees
half a file even when two workers render the same certificate.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from contest.certificates import design, render
from contest.clock import VN_TZ
from contest.formatting import points
from contest.i18n import message
from contest.settings import get_settings

# The print PDF and the phone picture (a JPEG: a fifth of a PNG's bytes).
FORMATS = ("pdf", "jpg")
MEDIA_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "zip": "application/zip"}
# How long a built zip or bundle stays: as long as the job that offers its link (jobs.RESULT_SECONDS).
BUNDLE_SECONDS = 24 * 3600


def render_key(values: dict[str, Any]) -> str:
    """What a rendered file depends on besides the certificate: the design's version and the address in its QR."""
    return hashlib.sha256(f"{values['version']}|{get_settings().public_url}".encode()).hexdigest()[:16]


def renders_dir() -> Path:
    return get_settings().storage_dir / "certificates"


def cache_path(cert: dict[str, Any], key: str, fmt: str) -> Path:
    return renders_dir() / str(cert["contest"]) / f"{cert['code']}-{key}.{fmt}"


def zips_dir() -> Path:
    return get_settings().storage_dir / "zips"


def forget_renders(certificates: list[dict[str, Any]]) -> None:
    """Remove the rendered files of these certificates and their rounds' bundles, e.g. once the holder's name is
    erased: they print the old name (they are rendered again on request)."""
    for cert in certificates:
        pattern = cache_path(cert, "*", "*")
        for path in pattern.parent.glob(pattern.name):
            path.unlink(missing_ok=True)
    for round_id in {c["round"] for c in certificates if c["round"] is not None}:
        for path in zips_dir().glob(f"round-{round_id}-*"):
            path.unlink(missing_ok=True)


def purge(current: dict[int, str], now: float | None = None) -> dict[str, int]:
    """Remove renders made for another render key than their contest's current one (a superseded design, an old
    site address; a contest not in current has none left) and bundles older than BUNDLE_SECONDS."""
    removed = {"renders": 0, "bundles": 0}
    if renders_dir().is_dir():
        for folder in renders_dir().iterdir():
            key = current.get(int(folder.name)) if folder.name.isdigit() else None
            for path in folder.iterdir():
                if path.is_file() and (key is None or not path.stem.endswith(f"-{key}")):
                    path.unlink(missing_ok=True)
                    removed["renders"] += 1
    cutoff = (time.time() if now is None else now) - BUNDLE_SECONDS
    if zips_dir().is_dir():
        for path in zips_dir().iterdir():
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed["bundles"] += 1
    return removed


def verify_url(code: str) -> str:
    return f"{get_settings().public_url}/verify/{code}"


def loopback_address() -> bool:
    """Whether the address printed in QR codes is this machine's own (127.0.0.1, localhost): no phone reaches it."""
    host = (urlsplit(get_settings().public_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    """The rendered file when it is there for the current design and address, else None."""
    path = cache_path(cert, render_key(values), fmt)
    return path if path.exists() else None


def render_cert(cert: dict[str, Any], values: dict[str, Any], formats: tuple[str, ...] = FORMATS) -> dict[str, Path]:
    """Render what is missing of one certificate (PDF for print, JPEG for phones) and return the files."""
    out: dict[str, Path] = {}
    face = face_of(cert)
    key = render_key(values)
    for fmt in formats:
        path = cache_path(cert, key, fmt)
        if not path.exists():
            look = design.render_design(values, cert["kind"])
            _write(path, render.render_pdf(look, face) if fmt == "pdf" else render.render_jpeg(look, face))
        out[fmt] = path
    return out
