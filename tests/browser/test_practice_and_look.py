"""Practice, flashcards, a contest in its organiser's colours and its printed rules, in a real browser on a phone:
axe-core on every page, screenshots, keyboard flips, and the print stylesheet."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from contest.contests import look as contest_look
from contest.contests.tables import Contest
from contest.practice.tables import PracticeSet
from contest.questions.tables import Question
from contest.uploads import store_image
from tests.browser.steps import expect
from tests.practice.test_practice import bank


async def _released_set(contest_id: int | None = None) -> tuple[int, str]:
    """A published set on a fresh topic whose questions were released long enough ago for the web process's own
    clock (the browser tests' server runs on real time: the test clock does not reach it)."""
    slug, ids = await bank(3, name="An toàn trên không gian mạng")
    await Question.update({Question.practice_since: datetime.now(UTC) - timedelta(minutes=5)}).where(Question.id.is_in(ids))
    rows = await PracticeSet.insert(
        PracticeSet(
            title="Ôn tập tuần 1: An toàn trên không gian mạng",
            description="Ba câu hỏi ôn tập, có đáp án và giải thích.",
            quotas=json.dumps({slug: 3}),
            contest=contest_id,
            published=True,
        )
    ).returning(PracticeSet.id)
    return int(rows[0]["id"]), slug


def _logo() -> str:
    img = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", (200, 200), (11, 79, 138, 255)), (20, 20))
    img.paste(Image.new("RGBA", (120, 120), (255, 255, 255, 255)), (60, 60))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return store_image(contest_look.prepare_logo(out.getvalue()))


async def test_practice_and_flashcards_on_a_phone(phone: Any, look: Any, new_round: Any) -> None:
    case = await new_round()
    await Contest.update({Contest.brand_primary: "#0b4f8a", Contest.brand_accent: "#8a5a00", Contest.logo: _logo()}).where(
        Contest.id == case.contest_id
    )
    set_id, slug = await _released_set(case.contest_id)
    page = phone
    await page.goto(f"/c/{case.slug}")
    await look(page, "look-1-contest-in-its-colours")
    bar = await page.evaluate("() => getComputedStyle(document.querySelector('.top')).backgroundColor")
    assert bar == "rgb(11, 79, 138)", "the contest's primary colour reaches the page through theme.css"
    await page.get_by_role("link", name=re.compile("Thi thử: Ôn tập tuần 1")).click()
    await expect(page).to_have_url(re.compile(rf"/practice/{set_id}$"))
    await look(page, "practice-1-set")

    await page.get_by_role("button", name="Bắt đầu thi thử").click()
    for n in (1, 2, 3):
        await expect(page.get_by_text(f"Câu {n}/3")).to_be_visible()
        if n == 1:
            await look(page, "practice-2-question")
        await page.locator("label.option").first.click()
        await page.get_by_role("button", name="Trả lời").click()
        # htmx swaps the feedback in: right or not, the explanation is there at once.
        await expect(page.locator(".feedback .verdict")).to_be_visible()
        await expect(page.locator(".feedback .explanation")).to_contain_text("Giải thích")
        if n == 1:
            await look(page, "practice-3-feedback")
        await page.get_by_role("link", name="Xem kết quả" if n == 3 else "Câu tiếp theo").click()
    await expect(page.get_by_text(re.compile(r"\d/3 câu đúng"))).to_be_visible()
    await look(page, "practice-4-score")

    await page.goto(f"/practice/{set_id}/cards/{slug}")
    back = page.locator(".flashcard .back")
    await expect(back).to_be_hidden()
    await look(page, "practice-5-flashcard-front")
    # Keyboard only: Tab to the flip, Enter turns the card.
    await page.locator(".flashcard summary").focus()
    await page.keyboard.press("Enter")
    await expect(back).to_be_visible()
    await expect(back).to_contain_text("Đáp án đúng:")
    await look(page, "practice-6-flashcard-back")
    await page.get_by_role("link", name=re.compile("Thẻ sau")).click()
    await expect(page.get_by_text("Thẻ 2/3")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"\?n=2$"))  # htmx pushed the address: reload and back work


async def test_the_rules_page_prints_as_a_document(phone: Any, look: Any, new_round: Any) -> None:
    case = await new_round()
    rules = (
        "Điều 1. Đối tượng dự thi\nCông dân Việt Nam đang sinh sống, học tập, làm việc tại thành phố Hải Phòng.\n\n"
        "Điều 2. Hình thức thi\nThi trắc nghiệm trực tuyến, mỗi tuần một vòng, mỗi người thi tối đa 2 lượt mỗi tuần.\n\n"
        "Điều 3. Giải thưởng\nMỗi tuần: 1 giải Nhất, 2 giải Nhì, 3 giải Ba và 5 giải Khuyến khích."
    )
    await Contest.update({Contest.rules: rules, Contest.brand_primary: "#1d5c2e", Contest.logo: _logo()}).where(
        Contest.id == case.contest_id
    )
    page = phone
    await page.goto(f"/c/{case.slug}")
    await page.get_by_role("link", name="Thể lệ cuộc thi").click()
    await expect(page.get_by_role("heading", name=f"Test {case.slug.rsplit('-', 1)[1]}")).to_be_visible()
    await expect(page.get_by_role("button", name="In thể lệ")).to_be_visible()  # shown by look.js
    await look(page, "look-2-rules")
    await page.emulate_media(media="print")
    await expect(page.locator("header.top")).to_be_hidden()
    await expect(page.get_by_role("button", name="In thể lệ")).to_be_hidden()
    await expect(page.get_by_text(re.compile(r"Thể lệ trực tuyến: http"))).to_be_visible()
    await look(page, "look-3-rules-printed")
    pdf = await page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
