"""Static files under an address that carries a hash of their content: phones keep them for a year, and a new
version of a file is a new address, so nobody runs yesterday's script against today's page."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import PurePath

from litestar import Router, get, head
from litestar.file_system import BaseLocalFileSystem
from litestar.response.file import ASGIFileResponse
from litestar.static_files.base import StaticFiles

from contest.settings import ROOT

STATIC = ROOT / "static"
# A fingerprinted address never changes content: cache it for good.
IMMUTABLE = "public, max-age=31536000, immutable"
# A bare address (/static/app.css), or a hash that is not the current one (a page rendered before a deploy):
# the content may change under it, so a day at most.
DAILY = "public, max-age=86400"
_FINGERPRINTED = re.compile(r"^(?P<stem>[\w.-]+)\.(?P<hash>[0-9a-f]{12})\.(?P<ext>\w+)$")


@lru_cache(maxsize=1)
def fingerprints() -> dict[str, str]:
    """File name -> the first 12 hex digits of its SHA-256, for every file in static/, read once per process."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in sorted(STATIC.iterdir()) if p.is_file()}


def static_url(name: str) -> str:
    """'app.css' -> '/static/app.<hash>.css', the address templates link to (a Jinja global)."""
    digest = fingerprints().get(name)
    if digest is None:
        raise ValueError(f"static/{name} does not exist")
    stem, dot, ext = name.rpartition(".")
    return f"/static/{stem}.{digest}.{ext}" if dot else f"/static/{name}.{digest}"


def resolve(requested: str) -> tuple[str, bool]:
    """The file a requested name stands for, and whether the address carries that file's current hash."""
    found = _FINGERPRINTED.match(requested)
    if found:
        name = f"{found['stem']}.{found['ext']}"
        if name in fingerprints():
            return name, fingerprints()[name] == found["hash"]
    return requested, False


def static_router() -> Router:
    """/static: fingerprinted addresses cached for a year, anything else for a day (Litestar sends the file)."""
    fs = BaseLocalFileSystem()
    forever = StaticFiles(False, [STATIC], fs, headers={"cache-control": IMMUTABLE})
    daily = StaticFiles(False, [STATIC], fs, headers={"cache-control": DAILY})

    async def send(file_path: PurePath, is_head: bool) -> ASGIFileResponse:
        name, current = resolve(file_path.as_posix().lstrip("/"))
        return await (forever if current else daily).handle(path=name, is_head_response=is_head)

    @get("/{file_path:path}", name="static", include_in_schema=False)
    async def get_file(file_path: PurePath) -> ASGIFileResponse:
        return await send(file_path, False)

    @head("/{file_path:path}", name="static/head", include_in_schema=False)
    async def head_file(file_path: PurePath) -> ASGIFileResponse:
        return await send(file_path, True)

    fingerprints()  # hash the files now, at startup, not on the first page
    return Router(path="/static", route_handlers=[get_file, head_file])
