"""What people do in the browser, step by step, shared by the journeys."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.factories import HAI_PHONG_COMMUNES
from tests.staff.test_signin import PASSWORD

expect = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed").expect
HAI_PHONG = "31"


async def register(page: Any, slug: str, name: str, phone: str, look: Any = None, shot: str = "") -> None:
    """From the contest page, through the registration form, back to the contest page greeted by name."""
    if not page.url.endswith(f"/c/{slug}"):
        await page.goto(f"/c/{slug}")
    await page.get_by_role("link", name="Đăng ký dự thi").click()
    await expect(page).to_have_url(re.compile(rf"/c/{slug}/register$"))
    # The province list asks for its communes through htmx: a person typing a name and a phone number gives the
    # script time to arrive even on Slow 3G; a test types at once, so it waits for the page's scripts.
    await page.wait_for_load_state("load")
    await page.get_by_label("Họ và tên").fill(name)
    await page.get_by_label("Số điện thoại").fill(phone)
    await page.get_by_label("Năm sinh").fill("1962")
    # The commune list comes by htmx when the province changes (the only province loaded is chosen already: the
    # person changes their mind once, and the list must follow each time).
    province, commune = page.get_by_label("Tỉnh/thành phố"), page.get_by_label("Xã/phường/đặc khu")
    for choice in ("", HAI_PHONG):
        async with page.expect_response(lambda r: "/communes?" in r.url):
            await province.select_option(choice)
        if choice == "":
            await expect(commune.locator("option")).to_have_count(1)
    await expect(commune.locator(f'option[value="{HAI_PHONG_COMMUNES[0]}"]')).to_be_attached()
    await commune.select_option(str(HAI_PHONG_COMMUNES[0]))
    await page.get_by_label("Đối tượng dự thi").select_option("citizens")
    await page.get_by_role("checkbox").check()
    if look is not None:
        await look(page, shot)
    await page.get_by_role("button", name="Đăng ký", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"/c/{slug}$"))
    await expect(page.get_by_text(f"Xin chào {name}")).to_be_visible()


async def sign_in(page: Any, email: str, look: Any = None, shot: str = "") -> None:
    """Staff sign-in, landing on the staff home page."""
    await page.goto("/staff/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Mật khẩu").fill(PASSWORD)
    if look is not None:
        await look(page, shot)
    await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page).to_have_url(re.compile(r"/staff/$"))


def seconds_on(clock_text: str) -> int:
    """'1:05' -> 65."""
    minutes, seconds = clock_text.strip().split(":")
    return int(minutes) * 60 + int(seconds)
