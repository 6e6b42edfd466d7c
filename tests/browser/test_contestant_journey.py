"""A contestant's whole journey on a cheap phone: register, start, answer, reload in the middle and find everything as
it was, then let the countdown reach zero: the page submits itself and the result arrives."""

from __future__ import annotations

import re
import time

from contest import db
from tests.browser.conftest import phone_number
from tests.browser.steps import expect, register, seconds_on
from tests.factories import answer_key

TIME_LIMIT = 25  # seconds: the test waits for the countdown, so short


async def test_a_contestant_on_a_phone_answers_reloads_and_is_submitted_at_zero(phone, look, new_round) -> None:
    case = await new_round(time_limit=TIME_LIMIT)  # 4 questions, one per topic
    page = phone
    await page.goto(f"/c/{case.slug}")
    await look(page, "contestant-1-contest")
    await register(page, case.slug, "Trần Thị Hoa", phone_number(), look, "contestant-2-register")
    await look(page, "contestant-3-registered")

    await page.get_by_role("button", name="Bắt đầu thi").click()
    await expect(page).to_have_url(re.compile(r"/attempts/\d+$"))
    started = time.monotonic()
    attempt_id = int(page.url.rsplit("/", 1)[1])
    key = await answer_key(attempt_id)
    right, wrong = key[1][0], key[2][1][0]
    await page.locator(f'#q1 input[value="{right}"]').check()
    await expect(page.locator("#saved1")).to_have_text("✓")
    await page.locator(f'#q2 input[value="{wrong}"]').check()
    await expect(page.locator("#saved2")).to_have_text("✓")
    await expect(page.locator("#answered")).to_have_text("2")
    # Each answer carried the page's order (its clock in ms, static/app.js): a late earlier answer cannot replace it.
    orders = await db.fetch("SELECT answer_seq FROM attempt_item WHERE attempt = $1 AND position IN (1, 2)", attempt_id)
    assert all(r["answer_seq"] and abs(r["answer_seq"] / 1000 - time.time()) < 120 for r in orders), orders

    # A reload (a dropped connection, a phone that killed the tab): the answers are still chosen, and the clock is
    # the server's deadline, not a fresh one.
    before = seconds_on(await page.locator("#clock").text_content() or "")
    await page.reload()
    after = seconds_on(await page.locator("#clock").text_content() or "")
    elapsed = time.monotonic() - started
    assert before - 3 <= after <= before and after <= TIME_LIMIT - elapsed + 1, (before, after, elapsed)
    await expect(page.locator(f'#q1 input[value="{right}"]')).to_be_checked()
    await expect(page.locator(f'#q2 input[value="{wrong}"]')).to_be_checked()
    await expect(page.locator("#answered")).to_have_text("2")
    assert after > 10, f"the test was too slow to see the last 10 seconds announced ({after} s left)"

    # Screen readers hear the time sparingly: while the clock ticks every second, the polite region speaks once.
    await page.evaluate(
        """() => { window.spoken = []; window.ticks = 0;
            new MutationObserver(() => window.spoken.push(document.getElementById('time-said').textContent))
                .observe(document.getElementById('time-said'), {childList: true, characterData: true, subtree: true});
            new MutationObserver(() => window.ticks++)
                .observe(document.getElementById('clock'), {childList: true, characterData: true, subtree: true}); }"""
    )
    await look(page, "contestant-4-attempt")
    await expect(page.locator("#time-said")).to_have_text("Còn 10 giây", timeout=(TIME_LIMIT + 5) * 1000)
    assert await page.locator("#time-said").get_attribute("aria-live") == "polite"
    assert await page.evaluate("window.spoken") == ["Còn 10 giây"] and await page.evaluate("window.ticks") >= after - 11

    # Nobody presses "Nộp bài": at zero the page submits itself, and the worker scores it.
    await expect(page).to_have_url(re.compile(rf"/attempts/{attempt_id}/result$"), timeout=15_000)
    assert time.monotonic() - started >= TIME_LIMIT - 2
    await expect(page.locator("#result .score")).to_have_text(re.compile(r"1/4\s+câu đúng"), timeout=20_000)
    taken = re.search(r"Thời gian làm bài: (\d+),\d+ giây", await page.locator("#result").inner_text())
    assert taken and TIME_LIMIT - 2 <= int(taken[1]) <= TIME_LIMIT, await page.locator("#result").inner_text()
    await look(page, "contestant-5-result")
