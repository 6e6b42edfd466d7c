"""Security headers on every response, and no inline code anywhere, so the Content-Security-Policy holds."""

from __future__ import annotations

import os
import re

from contest.demo import DEMO_SLUG
from contest.security import CONTENT_SECURITY_POLICY
from tests.conftest import ROOT, client_for
from tests.staff.test_signin import sign_in, staff

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# What a browser would refuse to run or apply under that policy.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "<style> block": re.compile(r"<style", re.I),
    "style attribute": re.compile(r"\sstyle=[\"']", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+=[\"']", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def assert_secured(response, path: str) -> None:  # type: ignore[no-untyped-def]
    h = response.headers
    assert h.get("content-security-policy") == POLICY, path
    assert h.get("x-content-type-options") == "nosniff", path
    assert h.get("referrer-policy") == "strict-origin-when-cross-origin", path
    assert h.get("x-frame-options") == "DENY", path
    assert "camera=()" in h.get("permissions-policy", "") and "geolocation=()" in h["permissions-policy"], path
    assert "strict-transport-security" not in h, path  # off unless CONTEST_HSTS=1


def inline_code(html: str) -> list[str]:
    return [what for what, pattern in INLINE.items() if pattern.search(html)]


async def test_every_kind_of_response_carries_the_security_headers(client, new_round) -> None:
    case = await new_round()
    assert CONTENT_SECURITY_POLICY == POLICY
    for path, status in (
        ("/", 200),
        (f"/c/{case.slug}", 200),
        ("/staff/login", 200),
        ("/api/v1/contests", 200),
        (f"/api/v1/rounds/{case.round_id}/attempts", 405),
        ("/static/app.css", 200),
        ("/static/htmx.min.js", 200),
        ("/healthz", 200),
        ("/no-such-page", 404),
        ("/schema/openapi.json", 200),
    ):
        r = await client.get(path)
        assert r.status_code == status, (path, r.status_code)
        assert_secured(r, path)
    refused = await client.post(f"/api/v1/rounds/{case.round_id}/attempts")
    assert refused.status_code == 401
    assert_secured(refused, "API 401")


async def test_only_the_api_explorers_load_their_viewer_from_a_cdn(client) -> None:
    docs = await client.get("/schema/swagger")
    assert docs.status_code == 200 and "cdn.jsdelivr.net" in docs.text
    policy = docs.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert docs.headers["x-frame-options"] == "DENY"


async def test_hsts_is_sent_only_when_the_setting_turns_it_on(client) -> None:
    from contest.app import create_app
    from contest.settings import get_settings

    os.environ["CONTEST_HSTS"] = "1"
    get_settings.cache_clear()
    try:
        secured = create_app()
    finally:
        del os.environ["CONTEST_HSTS"]
        get_settings.cache_clear()
    async with client_for(secured) as browser:
        for path in ("/healthz", "/static/app.css", "/no-such-page"):
            r = await browser.get(path)
            assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains", path
    assert "strict-transport-security" not in (await client.get("/healthz")).headers


def test_no_template_carries_inline_scripts_styles_or_handlers() -> None:
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 40
    found = {str(t.relative_to(ROOT)): inline_code(t.read_text(encoding="utf-8")) for t in templates}
    assert {name: what for name, what in found.items() if what} == {}
    # The test sees what it is meant to see.
    assert inline_code('<div style="color:red">') == ["style attribute"]
    assert inline_code("<script>alert(1)</script>") == ["inline <script>"]
    assert inline_code('<a onclick="x()">') == ["event handler attribute"]
    assert inline_code('<script src="/static/app.js" defer></script>') == []


def test_htmx_is_told_not_to_inject_its_indicator_style_nor_to_eval() -> None:
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    config = re.search(r'name="htmx-config" content=\'([^\']+)\'', base).group(1)
    assert '"includeIndicatorStyles":false' in config and '"allowEval":false' in config and "responseHandling" in config
    assert ".htmx-indicator" in (ROOT / "static" / "app.css").read_text(encoding="utf-8")


async def test_rendered_pages_have_no_inline_code_either(client, new_round) -> None:
    case = await new_round()
    pages = ["/", f"/c/{case.slug}", f"/c/{case.slug}/register", f"/c/{DEMO_SLUG}/board", "/staff/login"]
    for path in pages:
        r = await client.get(path, follow_redirects=True)
        assert r.status_code == 200 and inline_code(r.text) == [], (path, inline_code(r.text))
    await sign_in(client, await staff("admin"))
    for path in (
        "/staff/",
        "/staff/questions/",
        "/staff/questions/new",
        "/staff/officials/",
        "/staff/people/",
        "/staff/contests/",
    ):
        r = await client.get(path, follow_redirects=True)
        assert r.status_code == 200 and inline_code(r.text) == [], (path, inline_code(r.text))
    bank = (await client.get("/staff/questions/")).text
    assert re.search(r'<link rel="stylesheet" href="/static/bank\.[0-9a-f]{12}\.css">', bank)
    officials = (await client.get("/staff/officials/")).text
    assert re.search(r'<link rel="stylesheet" href="/static/officials\.[0-9a-f]{12}\.css">', officials)


async def test_the_csrf_cookie_is_httponly_and_pages_carry_the_token_for_htmx_and_forms(client) -> None:
    client.cookies.clear()
    page = await client.get(f"/c/{DEMO_SLUG}/register")  # a page of one's own (shared pages carry no token)
    cookie = next(v for k, v in page.headers.multi_items() if k == "set-cookie" and v.startswith("csrftoken="))
    assert "httponly" in cookie.lower()
    token = client.cookies["csrftoken"]
    assert f'hx-headers=\'{{"x-csrftoken": "{token}"}}\'' in page.text  # htmx sends it without reading the cookie
    # An htmx request with the header rendered into the page goes through the CSRF check.
    htmx = {"x-csrftoken": token, "hx-request": "true"}
    assert (await client.post("/leave", headers=htmx)).status_code < 400
    assert (await client.post("/leave", headers={"hx-request": "true"})).status_code == 403


async def test_every_page_carries_a_meta_description(client) -> None:
    for path in ("/", f"/c/{DEMO_SLUG}", "/verify", "/privacy", "/c/no-such-contest"):
        page = await client.get(path)
        assert re.search(r'<meta name="description" content="[^"]{40,}">', page.text), path
