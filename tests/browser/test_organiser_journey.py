"""An organiser at a laptop: imports a question bank from Excel, builds a contest and opens its first round, and the
round is open on the public contest page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contest.clock import VN_TZ
from contest.questions.export import to_xlsx
from contest.questions.transfer_read import MAX_OPTIONS
from contest.staff.accounts import create_staff
from tests.browser.conftest import PASSWORD
from tests.browser.steps import expect, sign_in

QUESTIONS = [
    ("Trợ lý ảo AI có thể trả lời sai không?", ["Không bao giờ", "Có, cần kiểm tra lại thông tin"], "B"),
    ("Ảnh do AI tạo ra nên được ghi chú thế nào khi chia sẻ?", ["Ghi rõ là ảnh do AI tạo", "Không cần ghi gì"], "A"),
    ("Có nên đưa số căn cước công dân cho chatbot lạ?", ["Có", "Không"], "B"),
]


def bank_file(folder: Path, mark: str) -> Path:
    """An xlsx as organisers fill the template in: three questions of the “AI in daily life” topic."""
    rows = [
        ["ai_daily", 1, f"{text} ({mark})", *options, *[""] * (MAX_OPTIONS - len(options)), key, "", "AI", "có"]
        for text, options, key in QUESTIONS
    ]
    path = folder / "ngan-hang-cau-hoi.xlsx"
    path.write_bytes(to_xlsx(rows, instructions=True))
    return path


def vn_input(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M")


async def test_an_organiser_imports_a_bank_builds_a_contest_and_opens_its_round(desk, look, tmp_path) -> None:
    mark = uuid.uuid4().hex[:6]
    email = f"btc-{mark}@haiphong.gov.vn"
    await create_staff(email, "Phạm Minh Tuấn", "organiser", PASSWORD)
    page = desk
    await sign_in(page, email, look, "organiser-1-login")
    await look(page, "organiser-2-home")

    # The bank, from Excel: checked first, nothing imported until confirmed.
    await page.get_by_role("link", name="Nhập, xuất câu hỏi (Excel, CSV)").click()
    await expect(page).to_have_url(re.compile(r"/staff/questions/transfer/$"))
    await page.get_by_label("Tệp câu hỏi").set_input_files(str(bank_file(tmp_path, mark)))
    await look(page, "organiser-3-transfer")
    await page.get_by_role("button", name="Tải lên và kiểm tra").click()
    await expect(page.get_by_text("3 câu hỏi, tất cả hợp lệ")).to_be_visible()
    await look(page, "organiser-4-checked")
    await page.get_by_role("button", name="Xác nhận: thêm 3, sửa 0 câu hỏi").click()
    await expect(page.get_by_text("Đã nhập 3 câu hỏi vào ngân hàng")).to_be_visible()
    await look(page, "organiser-5-imported")

    # A contest drawing two questions on AI, then its first round, published: open from an hour ago.
    await page.goto("/staff/contests")
    await look(page, "organiser-6-contests")
    await page.get_by_role("link", name="Tạo cuộc thi mới").click()
    title = f"Tìm hiểu trí tuệ nhân tạo {mark}"
    await page.get_by_label("Tên cuộc thi").fill(title)
    await page.get_by_label("Giới thiệu").fill("Cuộc thi thử dành cho phường Thuỷ Nguyên.")
    await page.get_by_label("Thời gian làm bài (phút)").fill("10")
    await page.get_by_label("Trí tuệ nhân tạo trong đời sống", exact=True).fill("2")
    await look(page, "organiser-7-new-contest")
    await page.get_by_role("button", name="Tạo cuộc thi").click()
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    await page.get_by_role("button", name="Công bố cuộc thi").click()
    await expect(page.get_by_text("Đã công bố", exact=True)).to_be_visible()
    slug = (await page.locator('main a[href^="/c/"]').first.get_attribute("href") or "").removeprefix("/c/")

    await page.get_by_role("link", name="Thêm vòng thi").click()
    now = datetime.now(UTC)
    await page.get_by_label("Tên vòng thi").fill("Tuần 1")
    await page.get_by_label("Mở lúc (giờ Việt Nam)").fill(vn_input(now - timedelta(hours=1)))
    await page.get_by_label("Đóng lúc (giờ Việt Nam)").fill(vn_input(now + timedelta(days=7)))
    await look(page, "organiser-8-new-round")
    await page.get_by_role("button", name="Thêm vòng thi (bản nháp)").click()
    await expect(page.get_by_role("heading", name="Vòng 1: Tuần 1")).to_be_visible()
    await expect(page.get_by_text("Bản nháp", exact=True)).to_be_visible()
    await page.get_by_role("button", name="Công bố vòng thi").click()
    await expect(page.get_by_text("Đang mở", exact=True)).to_be_visible()
    await look(page, "organiser-9-round-open")

    # What contestants now see.
    await page.goto(f"/c/{slug}")
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    await expect(page.locator(".round.open")).to_contain_text("Tuần 1")
    await expect(page.get_by_text("2 câu hỏi · 10 phút mỗi lượt")).to_be_visible()
