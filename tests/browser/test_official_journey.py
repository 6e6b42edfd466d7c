"""A commune official on their phone: signs in and reads their commune's dashboard, their own people only."""

from __future__ import annotations

import re
import time
import uuid

from contest.attempts import finishing, starting
from contest.attempts.tables import Attempt
from contest.contests.tables import Contest
from contest.demo import DEMO_SLUG
from contest.scoring.queue import kick
from contest.staff.accounts import create_staff
from tests.browser.conftest import PASSWORD
from tests.browser.steps import expect, sign_in
from tests.factories import HAI_PHONG_COMMUNES, answer

THUY_NGUYEN, THIEN_HUONG = HAI_PHONG_COMMUNES


async def test_an_official_reads_their_communes_dashboard_on_a_phone(phone, look, new_round) -> None:
    case = await new_round()
    an = await case.contestant(1, THUY_NGUYEN, "Nguyễn Văn An")
    await case.contestant(2, THUY_NGUYEN, "Lê Thị Bích")
    await case.contestant(3, THIEN_HUONG, "Đỗ Văn Chung")  # another commune: not this official's to see
    attempt_id = await starting.start_attempt(an, case.round_id)
    await answer(attempt_id, an, 3)
    await finishing.submit(attempt_id, an)
    await kick()
    deadline = time.monotonic() + 30  # the system's own worker scores it
    while (await Attempt.select(Attempt.status).where(Attempt.id == attempt_id).first())["status"] != "scored":
        assert time.monotonic() < deadline, "the worker never scored the attempt"
        await Attempt.raw("SELECT pg_sleep(0.2)")

    email = f"xa-{uuid.uuid4().hex[:8]}@haiphong.gov.vn"
    await create_staff(email, "Vũ Thị Lan", "official", PASSWORD, [THUY_NGUYEN])
    page = phone
    await sign_in(page, email, look, "official-1-login")
    await look(page, "official-2-home")
    await page.get_by_role("link", name="Tình hình tham gia theo xã/phường").click()
    await expect(page).to_have_url(re.compile(rf"/staff/officials/communes/{THUY_NGUYEN}"))
    await expect(page.get_by_role("heading", name="Phường Thuỷ Nguyên", exact=True)).to_be_visible()

    # The contest picker swaps the dashboard in place (and the address follows): the demo contest, then the test's.
    demo = await Contest.select(Contest.id).where(Contest.slug == DEMO_SLUG).first()
    for contest_id in (demo["id"], case.contest_id):
        await page.get_by_label("Cuộc thi").select_option(str(contest_id))
        await expect(page).to_have_url(re.compile(rf"contest={contest_id}$"))
    ours = await Contest.select(Contest.title).where(Contest.id == case.contest_id).first()
    await expect(page.locator("#dashboard h2").first).to_have_text(ours["title"])
    dashboard = page.locator("#dashboard")
    await expect(dashboard.locator("tr.contestant")).to_have_count(2)
    await expect(dashboard).to_contain_text("Nguyễn Văn An")
    await expect(dashboard).to_contain_text("Lê Thị Bích")
    await expect(dashboard).not_to_contain_text("Đỗ Văn Chung")
    await expect(dashboard.locator(".stats")).to_contain_text(re.compile(r"Đã đăng ký\s*2\s*người"))
    await expect(dashboard.locator(".stats")).to_contain_text(re.compile(r"Lượt thi\s*1\s*lượt đã chấm"))
    await look(page, "official-3-dashboard")
