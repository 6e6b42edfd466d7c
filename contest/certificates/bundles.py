"""A round's certificates in bulk, as a print shop takes them: a zip of one PDF per certificate, or one many-page PDF
per commune (the background stored once per file), and how big either will be before anything is built.

Zip entry names keep the holder's name as written, in UTF-8 with the zip's UTF-8 flag (bit 11, the zip format's
way to say so, which tools that honour it read as UTF-8; tests/certificates/test_files.py extracts a zip with
Debian's Info-ZIP unzip, no Windows machine was at hand). Characters Windows refuses in a file name are replaced,
and names are cut to a length every system accepts.
"""

from __future__ import annotations

import itertools
import re
import secrets
import zipfile
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from contest.certificates import design, files, render
from contest.i18n import message
from contest.text import nfc

LAYOUTS = ("files", "communes")
Progress = Callable[[int, int], None]
# What Windows refuses in a file name, and control characters.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_ZIP_ENTRY_BYTES = 120  # local header, central directory entry and a name: what a zip adds per file, about


def safe_name(text: str, limit: int = 80) -> str:
    """A file or folder name every system accepts, the Vietnamese kept (NFC): Windows' forbidden characters become
    spaces, no trailing dot or space, at most limit characters."""
    name = " ".join(_FORBIDDEN.sub(" ", nfc(text)).split())[:limit].rstrip(". ")
    return name or "_"


def entry_name(cert: dict[str, Any]) -> str:
    """Where a certificate goes in a round's zip: a folder per commune, then holder, kind and code."""
    kind = message(cert["kind"], "vi", section="certificate_kinds")
    return f"{safe_name(cert['commune_name'])}/{safe_name(cert['holder'])} - {kind} - {cert['code']}.pdf"


def book_name(commune_name: str) -> str:
    return f"{safe_name(commune_name)}.pdf"


def build(
    round_id: int, rows: list[dict[str, Any]], values: dict[str, Any], layout: str = "files", progress: Progress | None = None
) -> Path:
    """Render what is missing and write the bundle: a zip of PDFs ("files"), or one PDF per commune ("communes",
    a single PDF when every certificate is of one commune, else a zip of them); returns its path."""
    folder = files.zips_dir()
    folder.mkdir(parents=True, exist_ok=True)
    by_commune = [list(group) for _, group in itertools.groupby(rows, key=lambda row: row["commune"])]
    single = layout == "communes" and len(by_commune) == 1
    target = folder / f"round-{round_id}-{secrets.token_hex(8)}.{'pdf' if single else 'zip'}"
    tmp = target.with_name(f".{target.name}.tmp")
    done = 0

    def step(count: int) -> None:
        nonlocal done
        before, done = done, done + count
        if progress and (done // 50 > before // 50 or done == len(rows)):
            progress(done, len(rows))

    if single:
        tmp.write_bytes(book(by_commune[0], values))
        step(len(rows))
    else:
        # PDFs are compressed already: stored, not deflated again.
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
            if layout == "communes":
                for group in by_commune:
                    archive.writestr(book_name(group[0]["commune_name"]), book(group, values))
                    step(len(group))
            else:
                for cert in rows:
                    archive.write(files.render_cert(cert, values, ("pdf",))["pdf"], entry_name(cert))
                    step(1)
    tmp.replace(target)
    return target


def book(rows: list[dict[str, Any]], values: dict[str, Any]) -> bytes:
    """These certificates as the pages of one PDF, in the order given."""
    pages = [(design.render_design(values, cert["kind"]), files.face_of(cert)) for cert in rows]
    title = f"{rows[0]['round_title'] or rows[0]['contest_title']} - {rows[0]['commune_name']}" if rows else ""
    return render.render_book(pages, title)


def projected_bytes(values: dict[str, Any], count: int, communes: int) -> dict[str, int]:
    """How big each layout ("<layout>_bytes") of count certificates over communes communes will be, from a sample
    rendered once per design and address: a certificate's own PDF, and what one more page adds to a commune's PDF."""
    single, page = _sample_sizes(files.render_key(values), _frozen(values))
    return {
        "files_bytes": count * (single + _ZIP_ENTRY_BYTES),
        "communes_bytes": communes * (single - page + _ZIP_ENTRY_BYTES) + count * page if count else 0,
    }


def _frozen(values: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in values.items() if isinstance(v, str | int | bool | type(None))))


@lru_cache(maxsize=32)
def _sample_sizes(key: str, values: tuple[tuple[str, Any], ...]) -> tuple[int, int]:
    del key  # part of the cache key only: the address changes the QR code, and so a little the size
    look = design.render_design(dict(values), "participation")
    face = render.Face(
        kind="participation",
        code="0123456789abcdef0123",
        holder=design.SAMPLE_NAMES[0],
        commune="Phường Hồng Bàng",
        contest_title="Cuộc thi trực tuyến “Công dân số” năm 2026",
        round_title="Tuần thi thứ 1",
        prize=None,
        detail="Đạt 10/12 câu trả lời đúng",
        issued_on=date(2026, 11, 22),
        verify_url=files.verify_url("0123456789abcdef0123"),
    )
    one = len(render.render_pdf(look, face))
    two = len(render.render_book([(look, face), (look, face)], ""))
    return one, two - one
