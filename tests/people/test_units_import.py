"""Organisers import a contest's units from xlsx: every bad row named in Vietnamese, nothing half-written; a second
import updates units by their code."""

from __future__ import annotations

import io

import openpyxl

from contest.people.tables import Unit
from contest.staff.tables import AuditEntry
from tests.leaderboard.test_units import MINISTRY, units_xlsx
from tests.staff.test_signin import csrf_of, sign_in, staff


async def _upload(client, contest_id: int, content: bytes):  # type: ignore[no-untyped-def]
    form = await client.get(f"/staff/contests/{contest_id}/units/")
    assert form.status_code == 200
    return await client.post(
        f"/staff/contests/{contest_id}/units/import",
        data={"_csrf_token": csrf_of(form.text)},
        files={"file": ("don-vi.xlsx", content)},
    )


async def test_a_bad_units_file_names_every_bad_row_and_writes_nothing(client, new_round) -> None:
    case = await new_round()
    await sign_in(client, await staff("organiser"))
    rows = [
        ["VP", "Văn phòng Bộ", "", 30],  # good
        ["", "Vụ Không Mã", "", 10],
        ["TL", "", "", 10],
        ["VP", "Văn phòng trùng", "", 10],
        ["PC", "Vụ Pháp chế", "KHONGCO", 10],
        ["TC", "Vụ Tổ chức", "", "nhiều"],
        ["X", "=A1", "", 1],
        ["A", "Phòng A", "B", 1],
        ["B", "Phòng B", "A", 1],
        ["C", "Phòng C", "C", 1],
        ["D" * 41, "Phòng dài", "", 1],
    ]
    bad = await _upload(client, case.contest_id, units_xlsx(rows))
    assert bad.status_code == 422
    for line in (
        "Tệp có 10 dòng cần sửa; chưa có đơn vị nào được lưu.",
        "Dòng 3: thiếu mã đơn vị.",
        "Dòng 4: thiếu tên đơn vị.",
        "Dòng 5: mã đơn vị “VP” đã có ở dòng 2.",
        "Dòng 6: không tìm thấy đơn vị cấp trên có mã “KHONGCO”",
        "Dòng 7: số người “nhiều” không hợp lệ",
        "Dòng 8: ô “=A1” là công thức",
        "Dòng 9: đơn vị cấp trên “B” khiến các đơn vị lồng vòng vào nhau.",
        "Dòng 11: đơn vị “C” không thể là đơn vị cấp trên của chính nó.",
        "Dòng 12: mã đơn vị “DDDD",
    ):
        assert line in bad.text, line
    assert await Unit.count().where(Unit.contest == case.contest_id) == 0  # not even the good row

    for content, says in (
        (b"not a workbook", "Không đọc được tệp"),
        (units_xlsx([]), "Tệp không có dòng dữ liệu nào dưới dòng tiêu đề."),
    ):
        refused = await _upload(client, case.contest_id, content)
        assert refused.status_code == 422 and says in refused.text
    assert await Unit.count().where(Unit.contest == case.contest_id) == 0


async def test_an_import_adds_units_then_a_second_one_updates_them_by_code(client, new_round) -> None:
    case = await new_round()
    await sign_in(client, await staff("organiser"))
    done = await _upload(client, case.contest_id, units_xlsx(MINISTRY))
    assert done.status_code == 200 and "Đã thêm 5 đơn vị, cập nhật 0 đơn vị." in done.text
    # A parent may come after its parts in the file; a typed 12 reads as the code "12", not "12.0".
    again = await _upload(
        client, case.contest_id, units_xlsx([["VP-HC", "Phòng Hành chính – Văn thư", "VP", 25], [12, "Tổ 12", "TCBC", ""]])
    )
    assert again.status_code == 200 and "Đã thêm 1 đơn vị, cập nhật 1 đơn vị." in again.text
    rows = {r["code"]: r for r in await Unit.select().where(Unit.contest == case.contest_id)}
    assert len(rows) == 6 and rows["VP-HC"]["name"] == "Phòng Hành chính – Văn thư" and rows["VP-HC"]["headcount"] == 25
    assert rows["12"]["parent"] == rows["TCBC"]["id"] and rows["VP-TH"]["parent"] == rows["VP"]["id"]
    assert await AuditEntry.count().where(AuditEntry.action == "contest.units") >= 2

    template = await client.get(f"/staff/contests/{case.contest_id}/units/template")
    sheet = openpyxl.load_workbook(io.BytesIO(template.content)).active
    assert [c.value for c in sheet[1]] == ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Số người"]
    assert ("VP-TH", "Phòng Tổng hợp", "VP", 10) in list(sheet.iter_rows(min_row=2, values_only=True))


async def test_only_organisers_reach_the_units_pages(client, new_round) -> None:
    case = await new_round()
    await sign_in(client, await staff("official", [11560]))
    for path in ("/", "/template"):
        assert (await client.get(f"/staff/contests/{case.contest_id}/units{path}")).status_code == 403
