"""Accessibility in a real browser: axe-core on the pages the journeys do not reach, tap targets a finger can hit on
the contestant's pages, a whole attempt done with the keyboard alone, and a focus ring that shows where it is."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contest.demo import DEMO_SLUG
from tests.browser.conftest import phone_number
from tests.browser.steps import expect, register

TAP = 44  # CSS px: the smallest a control may be on the contestant's pages
# What a finger taps on those pages. A radio or checkbox is tapped through its label; links inside text are exempt.
CONTROLS = (
    "button, .button, select, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), "
    "label.option, label.check, .langs a"
)


async def small_targets(page: Any) -> list[str]:
    """The visible controls on the page smaller than TAP in height or width, described."""
    return await page.evaluate(
        """([selector, tap]) => [...document.querySelectorAll(selector)]
            .filter(el => el.offsetParent !== null)
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, box]) => box.height < tap - 0.5 || box.width < tap - 0.5)
            .map(([el, box]) => `${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || el.name || '').trim()}"`
                + ` ${Math.round(box.width)}×${Math.round(box.height)}`)""",
        [CONTROLS, TAP],
    )


async def test_axe_core_fails_a_page_with_an_unlabelled_control_or_faint_text(phone, look) -> None:
    await phone.set_content(
        '<html lang="vi"><head><title>Thử</title></head><body><main><h1>Thử</h1><input name="phone">'
        '<p style="color:#bbb">Chữ mờ khó đọc</p></main></body></html>'
    )
    with pytest.raises(AssertionError) as failed:
        await look(phone, "axe-self-check")
    assert '"id": "label"' in str(failed.value) and '"id": "color-contrast"' in str(failed.value)


async def test_public_pages_pass_axe_on_a_phone(phone, look) -> None:
    page = phone
    await page.goto("/")
    await look(page, "public-1-home")
    await page.goto("/privacy")
    await look(page, "public-2-privacy")
    await page.goto(f"/c/{DEMO_SLUG}")
    await page.get_by_role("link", name="Bảng xếp hạng").first.click()
    await expect(page).to_have_url(re.compile(r"/rounds/\d+/board$"))
    await look(page, "public-3-board")
    # A form sent empty: the errors are announced and the fields marked, and that page passes too.
    await page.goto(f"/c/{DEMO_SLUG}/register")
    await page.get_by_role("button", name="Đăng ký", exact=True).click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.locator("#full_name")).to_have_attribute("aria-invalid", "true")
    await look(page, "public-4-register-errors")
    await page.goto("/staff/login")
    await page.get_by_label("Email").fill("khong-co@haiphong.gov.vn")
    await page.get_by_label("Mật khẩu").fill("sai-mat-khau-1")
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await look(page, "public-5-login-refused")


async def test_every_control_on_the_contestants_pages_is_a_finger_wide(phone, look, new_round) -> None:
    case = await new_round()
    page = phone
    await page.goto(f"/c/{case.slug}")
    assert not (small := await small_targets(page)), f"{page.url}: {small}"
    await page.get_by_role("link", name="Đăng ký dự thi").click()
    assert not (small := await small_targets(page)), f"{page.url}: {small}"
    await register(page, case.slug, "Hoàng Văn Nam", phone_number())
    assert not (small := await small_targets(page)), f"{page.url}: {small}"
    await page.get_by_role("button", name="Bắt đầu thi").click()
    await expect(page).to_have_url(re.compile(r"/attempts/\d+$"))
    assert not (small := await small_targets(page)), f"{page.url}: {small}"
    await page.locator("#q1 label.option").first.click()
    await expect(page.locator("#saved1")).to_have_text("✓")
    await page.get_by_role("button", name="Nộp bài").click()
    await expect(page.locator("#result .score")).to_be_visible(timeout=20_000)
    assert not (small := await small_targets(page)), f"{page.url}: {small}"
    await look(page, "contestant-6-result-submitted")


async def focused(page: Any) -> dict:
    return await page.evaluate(
        """() => { const el = document.activeElement, css = getComputedStyle(el);
            return {tag: el.tagName.toLowerCase(), id: el.id, name: el.name || '', type: el.type || '',
                    text: (el.textContent || '').trim(), form: el.form ? el.form.id : '',
                    outline: css.outlineStyle, width: parseFloat(css.outlineWidth)}; }"""
    )


async def tab_to(page: Any, wanted: Any, limit: int = 40) -> dict:
    """Press Tab until the focused element is the one wanted; it must show a focus ring."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        now = await focused(page)
        if wanted(now):
            assert now["outline"] != "none" and now["width"] >= 2, f"no visible focus ring on {now}"
            return now
    raise AssertionError(f"Tab never reached the element wanted on {page.url}")


async def test_a_contestant_identifies_answers_and_submits_with_the_keyboard_alone(phone, look, new_round) -> None:
    case = await new_round()
    await case.contestant(7, name="Phan Văn Đức")  # registered already: the "Tôi đã đăng ký" form
    page = phone
    await page.goto(f"/c/{case.slug}")
    await tab_to(page, lambda el: el["id"] == "id-phone")
    await page.keyboard.type(f"0912{case.round_id % 1000:03d}007")
    await tab_to(page, lambda el: el["id"] == "id-year")
    await page.keyboard.type("1990")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Xin chào Phan Văn Đức")).to_be_visible()

    await tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Bắt đầu thi")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/attempts/\d+$"))
    await tab_to(page, lambda el: el["type"] == "radio" and el["form"] == "q1")
    await page.keyboard.press("Space")
    await expect(page.locator("#saved1")).to_have_text("✓")
    await page.keyboard.press("ArrowDown")  # another option of the same question: chosen and saved again
    await expect(page.locator("#q1 input:checked")).to_have_count(1)
    assert await page.locator("#q1 input[type=radio]").nth(1).is_checked()
    await expect(page.locator("#answered")).to_have_text("1")
    await look(page, "keyboard-1-attempt")

    await tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Nộp bài")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/attempts/\d+/result$"))
    await expect(page.locator("#result .score")).to_have_text(re.compile(r"[01]/4\s+câu đúng"), timeout=20_000)
