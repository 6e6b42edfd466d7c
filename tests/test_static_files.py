"""Static files: addressed by a hash of their content and kept by browsers for a year; pages sent brotli-compressed."""

from __future__ import annotations

import hashlib
import re

from contest.assets import DAILY, IMMUTABLE, STATIC, static_url
from tests.conftest import ROOT


async def test_a_fingerprinted_file_is_cached_for_a_year_and_a_bare_or_stale_address_for_a_day(client) -> None:
    url = static_url("app.css")
    digest = hashlib.sha256((STATIC / "app.css").read_bytes()).hexdigest()[:12]
    assert url == f"/static/app.{digest}.css"
    fresh = await client.get(url)
    assert fresh.status_code == 200 and fresh.content == (STATIC / "app.css").read_bytes()
    assert fresh.headers["cache-control"] == IMMUTABLE and fresh.headers["content-type"].startswith("text/css")
    bare = await client.get("/static/app.css")
    assert bare.status_code == 200 and bare.headers["cache-control"] == DAILY
    stale = await client.get("/static/app.0123456789ab.css")  # a page rendered before the last deploy
    assert stale.status_code == 200 and stale.headers["cache-control"] == DAILY
    head = await client.head(static_url("htmx.min.js"))
    assert head.status_code == 200 and head.content == b"" and head.headers["cache-control"] == IMMUTABLE
    for missing in ("/static/nope.css", f"/static/nope.{digest}.css", "/static/..%2Fpyproject.toml"):
        assert (await client.get(missing)).status_code == 404, missing


async def test_pages_link_their_static_files_by_fingerprint(client) -> None:
    home = (await client.get("/")).text
    assert static_url("app.css") in home and static_url("htmx.min.js") in home and static_url("app.js") in home
    hardcoded = [p for p in (ROOT / "templates").rglob("*.html") if re.search(r"""(href|src)=["']/static/""", p.read_text())]
    assert hardcoded == [], "link static files with static_url(...) so they are fingerprinted"


async def test_pages_and_scripts_go_out_brotli_compressed_and_gzipped_to_browsers_without_brotli(client) -> None:
    for path in ("/", static_url("htmx.min.js")):
        br = await client.get(path, headers={"accept-encoding": "gzip, deflate, br"})
        assert br.headers["content-encoding"] == "br", path
        gz = await client.get(path, headers={"accept-encoding": "gzip"})
        assert gz.headers["content-encoding"] == "gzip" and gz.text == br.text, path
