"""The audit log reads as sentences: the action in words, whether it worked, the object and the details, filtered
by person, action and day, a page at a time."""

import re
from datetime import timedelta

from contest.clock import VN_TZ
from contest.questions import transfer
from contest.staff.audit import PER_PAGE, audit
from contest.staff.tables import AuditEntry, Staff
from tests.questions.test_transfer import new_topic, row, unique, xlsx
from tests.staff.test_signin import sign_in, staff


async def _member(role: str) -> int:
    email = await staff(role)
    return int((await Staff.select(Staff.id).where(Staff.email == email).first())["id"])


async def _admin(client) -> None:  # type: ignore[no-untyped-def]
    assert (await sign_in(client, await staff("admin"))).status_code == 302


async def test_a_failed_import_and_a_good_one_read_apart_with_their_details(client) -> None:
    await _admin(client)
    organiser_id = await _member("organiser")
    slug, _ = await new_topic()
    bad = await transfer.import_questions(b"not a sheet", "hong.xlsx", dry_run=False, staff_id=organiser_id)
    good = xlsx([row(slug, unique("Mã OTP có nên đọc cho người khác?"), "Không", "Có")])
    assert not bad.ok and (await transfer.import_questions(good, "tot.xlsx", dry_run=False, staff_id=organiser_id)).ok

    page = (await client.get(f"/staff/audit/?who={organiser_id}&action=questions.import")).text
    rows = re.findall(r'<tr class="outcome-(\w+)">(.*?)</tr>', page, re.S)
    assert [outcome for outcome, _ in rows] == ["ok", "failed"], "newest first, each with its outcome"
    good_row, bad_row = rows[0][1], rows[1][1]
    assert "Nhập câu hỏi từ tệp" in good_row and "tot.xlsx" in good_row and "imported: 1" in good_row
    assert "Không thành công" in bad_row and "hong.xlsx" in bad_row and "questions.import" not in bad_row
    await client.get("/lang/en")
    english = await client.get(f"/staff/audit/?who={organiser_id}&action=questions.import")
    assert "Imported questions from a file" in english.text and "Failed" in english.text


async def test_the_log_is_filtered_by_person_and_day_and_read_a_page_at_a_time(client, clock) -> None:
    await _admin(client)
    someone = await _member("organiser")
    for n in range(PER_PAGE + 5):
        await audit(someone, "contest.edit", f"trang-{n}", title=f"Cuộc thi {n}")
    clock.advance(days=-3)
    await audit(someone, "contest.create", "cu-hon")
    clock.advance(days=3)

    first = (await client.get(f"/staff/audit/?who={someone}")).text
    assert first.count('class="outcome-ok"') == PER_PAGE and "Trang 1/2" in first and "trang-54" in first
    second = (await client.get(f"/staff/audit/?who={someone}&page=2")).text
    assert second.count('class="outcome-ok"') == 6 and "cu-hon" in second and "trang-54" not in second
    today = clock.current.astimezone(VN_TZ).date()
    days_ago = (today - timedelta(days=3)).isoformat()
    old = (await client.get(f"/staff/audit/?who={someone}&since={days_ago}&until={days_ago}")).text
    assert old.count('class="outcome-ok"') == 1 and "Tạo cuộc thi" in old
    assert await AuditEntry.count().where(AuditEntry.staff == someone) == PER_PAGE + 6
