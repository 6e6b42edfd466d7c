"""Real-browser tests: the whole system (web, an RQ worker, the sweeper) as subprocesses, driven by Debian's Chromium.

Chromium is /usr/bin/chromium (`.ci/run` installs it with apt), never a browser Playwright downloads: on a machine
without it every test here is skipped, saying so. axe-core comes once from the npm registry (`npm pack`) into
.data/axe/ and is run on every page the tests look at; screenshots of those pages go to .data/test/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.faults.conftest import Processes, WebApp

CHROMIUM = Path("/usr/bin/chromium")
AXE_VERSION = "4.14.1"  # axe-core on the npm registry; bump it here
AXE = ROOT / ".data" / "axe" / f"axe-core-{AXE_VERSION}.min.js"
SCREENSHOTS = ROOT / ".data" / "test" / "screenshots"
HERE = Path(__file__).parent
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
}
DESK = {"viewport": {"width": 1280, "height": 860}, "locale": "vi-VN"}
PASSWORD = "hai-phong-2025"
NOTES: list[str] = []  # measurements the tests print at the end of the run (page weight, Slow 3G timings)


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does it): real-browser tests skipped"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]'): real-browser tests skipped"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason:
        for item in items:
            if HERE in Path(str(item.path)).parents:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for note in NOTES:
        terminalreporter.write_line(f"browser: {note}")
    if _Audit.pages:
        minor = {name: found for name, found in sorted(_Audit.pages.items()) if found}
        terminalreporter.write_line(
            f"browser: {len(_Audit.pages)} pages checked with axe-core {AXE_VERSION}, 0 serious or critical; "
            f"moderate/minor: {minor or 'none'}; screenshots in {SCREENSHOTS}"
        )


def axe_source() -> str:
    """axe-core's browser build, from the npm registry the first time (never committed)."""
    if not AXE.exists():
        AXE.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            packed = subprocess.run(
                ["npm", "pack", "--silent", f"axe-core@{AXE_VERSION}", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                timeout=180,
            )
            if packed.returncode != 0:
                pytest.fail(f"npm pack axe-core@{AXE_VERSION} failed (the npm registry is needed once):\n{packed.stderr}")
            with tarfile.open(next(Path(tmp).glob("axe-core-*.tgz"))) as tgz:
                member = tgz.extractfile("package/axe.min.js")
                assert member is not None
                partial = AXE.with_suffix(f".{os.getpid()}.part")
                partial.write_bytes(member.read())
                partial.replace(AXE)  # whole or not at all: another run may be reading it
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="package")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """`contest web` on a port of its own, `contest worker` and `contest cron` (sweeping every 2 s), on the suite's
    PostgreSQL and Redis: started once for this folder, always stopped."""
    processes = Processes(tmp_path_factory.mktemp("browser-logs"))
    try:
        # Every phone here is 127.0.0.1: one address's registration budget would be the whole folder's (limits have
        # their own tests).
        web = WebApp(processes, CONTEST_SWEEP_SECONDS="2", CONTEST_RATE_LIMIT="0").start()
        processes.spawn("worker", "worker", env=web.env)
        processes.spawn("cron", "cron", env=web.env)
        yield web
    finally:
        processes.close()
        _drop_queued_sweeps()


def _drop_queued_sweeps() -> None:
    """The sweeps cron queued that its worker did not take: the suite's later burst workers must not run them."""
    from rq import Queue

    from contest import keys
    from contest.redis import sync_redis

    Queue(keys.QUEUE_SCORING, connection=sync_redis()).empty()
    # A scoring job dropped with them leaves its kick mark (30 s): the next submit would see it, queue nothing, and a
    # later burst worker would find nothing to score.
    sync_redis().delete(keys.SCORING_KICK)


@pytest.fixture(scope="package")
async def browser(system: WebApp) -> AsyncIterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _context(browser: Any, system: WebApp, **options: Any) -> Any:
    context = await browser.new_context(base_url=system.url, **options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
async def phone(browser: Any, system: WebApp) -> AsyncIterator[Any]:
    """A cheap phone's screen (360×740, touch), fresh cookies and cache: one page in it."""
    context = await _context(browser, system, **PHONE)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
async def desk(browser: Any, system: WebApp) -> AsyncIterator[Any]:
    """An organiser's laptop screen, fresh cookies and cache: one page in it."""
    context = await _context(browser, system, **DESK)
    try:
        yield await context.new_page()
    finally:
        await context.close()


class _Audit:
    """Every page a test looks at: a screenshot, and axe-core's verdict (no serious or critical violation)."""

    pages: dict[str, list[str]] = {}  # page name -> moderate and minor findings (reported, not failed)

    def __init__(self, source: str) -> None:
        self.source = source

    async def __call__(self, page: Any, name: str) -> list[dict]:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.evaluate("() => window.scrollTo(0, 0)")  # a sticky bar would show mid-page otherwise
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        viewport = page.viewport_size
        if viewport and viewport["width"] <= 400:  # on a phone nothing may need sideways scrolling
            wider = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
            assert wider <= 0, f"{name} ({page.url}) is {wider}px wider than the phone's screen"
        # Evaluated through the DevTools protocol, not added as a <script>: the page's CSP stays on in these tests.
        if not await page.evaluate("() => typeof window.axe === 'object'"):
            await page.evaluate(self.source + "\n;true")
        found = await page.evaluate(
            """async () => { const r = await axe.run(document, {resultTypes: ['violations']});
                return {passes: r.passes.length, violations: r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\\n')[1])
                }))}; }"""
        )
        assert found["passes"] > 10, f"axe-core checked next to nothing on {name}: {found}"
        violations = found["violations"]
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not bad, f"axe-core on {name} ({page.url}):\n" + json.dumps(bad, ensure_ascii=False, indent=1)
        _Audit.pages[name] = [f"{v['id']} ({v['impact']})" for v in violations if v not in bad]
        return violations


@pytest.fixture(scope="package")
def look() -> _Audit:
    """`await look(page, "name")`: screenshot the page to .data/test/screenshots/name.png and run axe-core on it."""
    if SCREENSHOTS.exists() and not os.environ.get("PYTEST_XDIST_WORKER"):
        shutil.rmtree(SCREENSHOTS)  # this run's pictures only
    print(f"\nbrowser screenshots: {SCREENSHOTS}")
    return _Audit(axe_source())


def phone_number() -> str:
    """A mobile number no other test uses."""
    return "098" + str(uuid.uuid4().int % 10**7).zfill(7)
