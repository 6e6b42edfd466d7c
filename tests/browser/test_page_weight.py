"""Light pages for slow mobile data: the contest page's first load is small over the wire, its static files carry a
content hash and are kept for a year, and a contestant on Slow 3G still registers and answers in good time."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

from contest.demo import DEMO_SLUG
from tests.browser.conftest import NOTES, phone_number
from tests.browser.steps import expect, register

BUDGET = 50 * 1024  # bytes over the wire for the contest page's first load: HTML, CSS, JS, fonts and images
# Chromium's DevTools "Slow 3G"-like profile: 400 kbit/s each way, 400 ms of latency on every request.
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
SLOW_3G_BOUND = 60  # seconds for the contest page, registration, start and one saved answer
FINGERPRINTED = re.compile(r"/static/[\w.-]+\.[0-9a-f]{12}\.\w+$")


class Wire:
    """What a page transferred as Chromium counted it (DevTools protocol: encoded bytes, headers included)."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}

    @classmethod
    async def watch(cls, page: Any) -> Wire:
        wire = cls()
        cdp = await page.context.new_cdp_session(page)
        cdp.on("Network.responseReceived", wire._response)
        cdp.on("Network.loadingFinished", wire._finished)
        await cdp.send("Network.enable")
        wire.cdp = cdp  # type: ignore[attr-defined]
        return wire

    def _response(self, event: dict) -> None:
        response = event["response"]
        headers = {k.lower(): v for k, v in response["headers"].items()}
        self.seen[event["requestId"]] = {
            "url": response["url"],
            "type": event["type"],
            "cached": response.get("fromDiskCache") or response.get("fromMemoryCache") or response["status"] == 304,
            "encoding": headers.get("content-encoding", ""),
            "cache": headers.get("cache-control", ""),
            "bytes": 0,
        }

    def _finished(self, event: dict) -> None:
        if event["requestId"] in self.seen:
            self.seen[event["requestId"]]["bytes"] = int(event["encodedDataLength"])

    def total(self) -> int:
        return sum(r["bytes"] for r in self.seen.values())

    def breakdown(self) -> str:
        return ", ".join(
            f"{r['url'].rsplit('/', 1)[-1] or '/'} {r['bytes'] / 1024:.1f} KB {r['encoding']}" for r in self.seen.values()
        )


async def test_the_contest_page_first_load_is_under_50_kb_and_its_static_files_are_cached_for_good(phone, system) -> None:
    page = phone
    wire = await Wire.watch(page)
    await page.goto(f"/c/{DEMO_SLUG}", wait_until="networkidle")
    loaded = list(wire.seen.values())
    kinds = {r["type"] for r in loaded}
    assert {"Document", "Stylesheet", "Script"} <= kinds, loaded
    assert wire.total() <= BUDGET, f"{wire.total() / 1024:.1f} KB over the wire: {wire.breakdown()}"
    for r in loaded:
        if "/static/" in r["url"]:
            assert FINGERPRINTED.search(r["url"]), f"{r['url']} has no content hash"
            assert r["cache"] == "public, max-age=31536000, immutable", r
    # Every file worth compressing went out compressed; a browser without brotli gets gzip, still within budget.
    async with httpx.AsyncClient() as http:
        gzipped = 0
        for r in loaded:
            raw = await http.get(r["url"], headers={"accept-encoding": "identity"})
            if len(raw.content) >= 800:  # below that compressing is not worth it, and the app does not
                assert r["encoding"] in ("gzip", "br"), f"{r['url']} ({len(raw.content)} bytes) went out uncompressed"
            got = await http.get(r["url"], headers={"accept-encoding": "gzip"})
            assert got.headers.get("content-encoding") == "gzip" or len(raw.content) < 800, r["url"]
            gzipped += got.num_bytes_downloaded + len(str(got.headers))  # the body as sent, and about its headers
    assert gzipped <= BUDGET, f"{gzipped / 1024:.1f} KB gzipped"
    NOTES.append(
        f"contest page first load: {wire.total() / 1024:.1f} KB over the wire in Chromium ({wire.breakdown()}); "
        f"about {gzipped / 1024:.1f} KB gzipped; budget {BUDGET // 1024} KB"
    )

    # Coming back: the fingerprinted files come from the phone's cache, only the page itself crosses the network.
    wire.seen.clear()
    await page.goto(f"/c/{DEMO_SLUG}", wait_until="networkidle")
    fetched = [r for r in wire.seen.values() if "/static/" in r["url"] and not r["cached"] and r["bytes"] > 0]
    assert fetched == [], fetched
    assert wire.total() < BUDGET / 3, wire.breakdown()


async def test_a_contestant_on_slow_3g_registers_and_saves_an_answer_in_good_time(phone, new_round) -> None:
    case = await new_round()
    page = phone
    page.set_default_timeout(30_000)
    wire = await Wire.watch(page)
    await wire.cdp.send("Network.emulateNetworkConditions", SLOW_3G)  # type: ignore[attr-defined]
    started = time.monotonic()
    await page.goto(f"/c/{case.slug}")
    first_paint = time.monotonic() - started
    await register(page, case.slug, "Đinh Thị Mai", phone_number())
    await page.get_by_role("button", name="Bắt đầu thi").click()
    await expect(page).to_have_url(re.compile(r"/attempts/\d+$"))
    await page.locator("#q1 label.option").first.click()
    await expect(page.locator("#saved1")).to_have_text("✓")
    took = time.monotonic() - started
    NOTES.append(
        f"Slow 3G (400 kbit/s, 400 ms): contest page loaded in {first_paint:.1f} s; registration, start and one saved "
        f"answer in {took:.1f} s ({wire.total() / 1024:.1f} KB in all)"
    )
    assert took < SLOW_3G_BOUND, f"{took:.1f} s on Slow 3G"
