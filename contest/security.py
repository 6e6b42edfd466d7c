"""Security headers on every response: our pages load only our own files, are never framed and never sniffed;
over HTTPS every cookie is Secure. And the CSRF check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.middleware.csrf import CSRF_SECRET_LENGTH, CSRFMiddleware
from litestar.types import Message, Scope

# Every script and style comes from /static, every image from /static or /media (QR codes may be data: URLs).
# No inline code anywhere: tests/security/test_headers.py keeps the templates that way.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The API explorers Litestar serves under /schema (Swagger UI, ReDoc, RapiDoc, Elements, Scalar) load their
# viewer from these CDNs and start it with an inline script: the one place that needs more than our own files.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com https://cdn.redoc.ly; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com https://fonts.googleapis.com; "
    "font-src 'self' data: https://fonts.gstatic.com https://cdn.jsdelivr.net; img-src 'self' data: https://cdn.jsdelivr.net; "
    "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
# Nothing here needs a camera, a microphone, the location or payments.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def _is_viewer(path: str) -> bool:
    """An API explorer page under /schema (not the schema documents themselves)."""
    return (path == "/schema" or path.startswith("/schema/")) and not path.endswith((".json", ".yaml", ".yml"))


def headers_for(path: str, hsts: bool) -> dict[str, str]:
    """The security headers of a response to this path."""
    out = {
        "content-security-policy": DOCS_POLICY if _is_viewer(path) else CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "referrer-policy": "strict-origin-when-cross-origin",
        "x-frame-options": "DENY",
        "permissions-policy": PERMISSIONS_POLICY,
    }
    if hsts:
        out["strict-transport-security"] = HSTS
    return out


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def security_headers(hsts: bool = False) -> Callable[[Message, Scope], None]:
    """The access log's hook on every response start: every response gets the headers (pages, API, static files,
    errors, 404s alike).

    A plain function called by contest.access.AccessLog, allocation-light on purpose: as a Litestar before-send hook
    a sync function ran in a worker thread, twice per response, which cost more than the whole of a hello-world
    request. The two header sets are encoded once."""
    pages, docs = _encoded(headers_for("/", hsts)), _encoded(headers_for("/schema", hsts))
    names = frozenset(name for name, _ in pages)

    def add(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        ours = docs if _is_viewer(scope.get("path", "")) else pages
        headers = message.setdefault("headers", [])
        if not isinstance(headers, list):
            headers = message["headers"] = list(headers)
        # A route that sets its own (stricter) value keeps it.
        if any(name.lower() in names for name, _ in headers):
            present = {name.lower() for name, _ in headers}
            headers.extend(pair for pair in ours if pair[0] not in present)
        else:
            headers.extend(ours)
        if scope.get("scheme") == "https":  # also behind a trusted proxy: the server sets it from X-Forwarded-Proto
            headers[:] = [_secure(pair) for pair in headers]

    return add


def _secure(header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    """A cookie set over HTTPS is sent back over HTTPS only (contestant and staff sessions, CSRF token, language)."""
    name, value = header
    if name.lower() != b"set-cookie" or b"; secure" in value.lower():
        return header
    return name, value + b"; Secure"


class CSRFGuard(CSRFMiddleware):
    """Litestar's CSRF check, refusing (403) what it would trip over (500): a token that is not text (a file part of
    a multipart form), not ASCII, or not the 128 hex characters a real token has."""

    def _decode_csrf_token(self, token: Any) -> str | None:
        if not isinstance(token, str) or len(token) != 2 * CSRF_SECRET_LENGTH or not token.isascii():
            return None
        return super()._decode_csrf_token(token)
