"""Question import/export: xlsx and UTF-8 CSV, every bad row reported in Vietnamese, all or nothing, round trips."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from contest.questions import export, jobs, transfer, transfer_read
from contest.questions.service import ensure_topics
from contest.questions.tables import Option, Question, Topic
from contest.staff.tables import AuditEntry
from contest.text import fold
from tests.conftest import ROOT
from tests.staff.test_signin import csrf_of, sign_in, staff

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


async def new_topic() -> tuple[str, str]:
    """A topic of the test's own (so imports never touch the demo contest's draws): slug, Vietnamese name."""
    tag = uuid.uuid4().hex[:8]
    slug, name = f"t_{tag}", f"Chủ đề thử {tag}"
    await ensure_topics({slug: name})
    return slug, name


def row(topic: str, text: str, *options: str, correct: str = "A", **extra: Any) -> list[Any]:
    """A row under transfer.HEADER."""
    opts = list(options or ("Đúng", "Sai"))
    return [
        topic,
        extra.get("difficulty", 2),
        text,
        *opts,
        *[""] * (6 - len(opts)),
        correct,
        extra.get("explanation", "Vì sao như vậy."),
        extra.get("tags", ""),
        extra.get("active", "có"),
    ]


def xlsx(rows: list[list[Any]], header: list[str] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header or transfer.HEADER)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def unique(text: str) -> str:
    return f"{text} ({uuid.uuid4().hex[:6]})"


async def questions_of(slug: str) -> list[dict]:
    topic = await Topic.select(Topic.id).where(Topic.slug == slug).first()
    return await Question.select().where(Question.topic == topic["id"]).order_by(Question.id)


async def test_a_valid_xlsx_imports_every_question_with_its_options_and_key() -> None:
    slug, name = await new_topic()
    decomposed = unicodedata.normalize("NFD", unique("Dịch vụ công trực tuyến toàn trình là gì?"))
    data = xlsx(
        [
            row(slug, decomposed, "Nộp hồ sơ qua mạng", "Đến trụ sở", "Gọi điện", correct="A", tags="dịch vụ công, DVC"),
            row(name, unique("Những cách nào bảo vệ mật khẩu?"), "Bật 2FA", "Chia sẻ", "Đổi định kỳ", correct="A, C"),
            row(slug.upper(), unique("Câu hỏi tạm ngừng"), "Có", "Không", correct="b", difficulty=3, active="không"),
        ]
    )
    checked = await transfer.import_questions(data, "cau-hoi.xlsx", dry_run=True)
    assert checked.ok and checked.rows == 3 and not await questions_of(slug)
    report = await transfer.import_questions(data, "cau-hoi.xlsx", dry_run=False)
    assert report.ok and report.imported == 3
    stored = await questions_of(slug)
    first = stored[0]
    assert first["text"] == unicodedata.normalize("NFC", decomposed) and first["normalized"] == fold(decomposed)
    assert first["tags"] == ["dịch vụ công", "DVC"] and first["created_at"] is not None and first["updated_at"] is not None
    assert [q["active"] for q in stored] == [True, True, False] and stored[2]["difficulty"] == 3
    keys = (
        await Option.select(Option.position, Option.is_correct)
        .where(Option.question == stored[1]["id"])
        .order_by(Option.position)
    )
    assert [k["is_correct"] for k in keys] == [True, False, True]


async def test_every_bad_row_is_reported_with_its_number_and_nothing_is_written() -> None:
    slug, _ = await new_topic()
    demo_text = (await Question.select(Question.text).where(Question.active.eq(True)).first())["text"]
    same = unique("Câu hỏi lặp lại")
    header = [*transfer.HEADER[:13], "Phương án G (option_g)"]
    rows = [
        row(slug, unique("Câu đúng")),  # 2: fine
        row(slug, unique("Thiếu đáp án"), correct=""),  # 3
        row("khong-co-chu-de", unique("Chủ đề lạ")),  # 4
        row(slug, same),  # 5
        row(slug, "  " + same.upper()),  # 6: the same text but for case and spaces
        row(slug, demo_text),  # 7: already in the bank
        row(slug, unique("Bảy phương án"), "1", "2", "3", "4", "5", "6") + ["7"],  # 8
        row(slug, unique("Một phương án"), "Chỉ một"),  # 9
        row(slug, unique("Bỏ trống B"), "Một", "", "Ba"),  # 10
        row(slug, unique("Đáp án ngoài"), correct="D"),  # 11
        row(slug, unique("Độ khó sai"), difficulty=5),  # 12
        row(slug, "", correct="A"),  # 13
        row(slug, unique("Thẻ dài"), tags="x" * 41),  # 14
        row(slug, unique("Đang dùng?"), active="có lẽ"),  # 15
        row(slug, unique("Trùng phương án"), "Có", "có"),  # 16
        row("", unique("Không chủ đề"), correct="A"),  # 17
        row(slug, unique("Đáp án chữ số"), correct="1"),  # 18
    ]
    report = await transfer.import_questions(xlsx(rows, header), "sai.xlsx", dry_run=False)
    assert not report.ok and report.imported == 0 and not await questions_of(slug)
    lines = report.lines()
    expected = [
        "Dòng 3: thiếu đáp án đúng.",
        "Dòng 4: chủ đề “khong-co-chu-de” không có trong hệ thống.",
        "Dòng 6: trùng câu hỏi với dòng 5.",
        "Dòng 7: trùng với câu hỏi số",
        "Dòng 8: quá nhiều phương án: tối đa 6 (A đến F).",
        "Dòng 9: cần ít nhất 2 phương án trả lời.",
        "Dòng 10: phương án B bị bỏ trống",
        "Dòng 11: đáp án đúng D không phải một phương án đã điền.",
        "Dòng 12: độ khó “5” không hợp lệ",
        "Dòng 13: thiếu nội dung câu hỏi.",
        "Dòng 14: thẻ “",
        "Dòng 15: cột Đang dùng “có lẽ” không hợp lệ",
        "Dòng 16: phương án B “có” trùng với phương án A “Có”.",
        "Dòng 17: thiếu chủ đề.",
        "Dòng 18: đáp án đúng “1” không hợp lệ",
    ]
    for start in expected:
        assert any(line.startswith(start) for line in lines), (start, lines)
    assert not any(line.startswith(("Dòng 2:", "Dòng 5:")) for line in lines)
    assert [int(line.split(":")[0].split()[1]) for line in lines] == sorted(int(x.split(":")[0].split()[1]) for x in lines)


async def test_tone_marks_and_punctuation_make_different_options_and_questions() -> None:
    slug, _ = await new_topic()
    mark = uuid.uuid4().hex[:6]
    rows = [
        row(slug, f"Từ nào có dấu sắc? {mark}", "ma", "má", "mà", "mã", correct="B"),
        row(slug, f"Từ nào có dấu sắc {mark}", "mả", "mạ", correct="A"),  # no question mark: another question
        row(slug, f"Tu nao co dau sac? {mark}", "a", "b", correct="A"),  # no tone marks: another question
        row(slug, unique("Địa chỉ thư nào đúng?"), "nguyenvanan@gmail.com", "nguyenvanan.gmail.com", correct="A"),
    ]
    report = await transfer.import_questions(xlsx(rows), "dau.xlsx", dry_run=False)
    assert report.ok and report.imported == 4, report.lines()
    first = (await questions_of(slug))[0]
    options = await Option.select(Option.text).where(Option.question == first["id"]).order_by(Option.position)
    assert [o["text"] for o in options] == ["ma", "má", "mà", "mã"]
    again = await transfer.import_questions(xlsx([row(slug, f"TỪ NÀO CÓ DẤU SẮC? {mark}")]), "lai.xlsx", dry_run=True)
    assert again.lines() == [f"Dòng 2: trùng với câu hỏi số {first['id']} đang dùng trong ngân hàng."]


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (PNG, "anh.xlsx", "không phải bảng tính Excel"),
        (PNG, "anh.png", "không phải bảng tính .xlsx hoặc .csv"),
        ("Chủ đề,Câu hỏi\nx,y\n".encode(), "doi-ten.xlsx", "không phải bảng tính Excel"),
        (b"PK\x03\x04not really a zip", "hong.xlsx", "không phải bảng tính .xlsx hoặc .csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "cu.xls", "Excel 97–2003"),
        ("Chủ đề,Câu hỏi\n".encode("utf-16"), "utf16.csv", "Tệp CSV ở mã UTF-16"),
        ("Chủ đề,Câu hỏi\n".encode("utf-16-le"), "utf16.csv", "Tệp CSV ở mã UTF-16"),
        (b"Ch\xe1\xbb\xa7 \xc4\x91\xe1\xbb\x81,C\xc3\xa2u h\xe1\xbb\x8fi\nx,y\x00z\n", "nul.csv", "chứa ký tự rỗng (byte 0"),
        ("Đáp án đúng\n".encode("cp1258"), "ansi.csv", "không ở mã UTF-8"),
        (b"", "trong.xlsx", "Tệp trống"),
        (b"\xef\xbb\xbf\r\n\r\n", "trong.csv", "Tệp trống"),
        ("Ghi chú tự do\nkhông có tiêu đề\n".encode(), "ghichu.csv", "Dòng tiêu đề thiếu cột"),
        (b"x" * (transfer.MAX_BYTES + 1), "lon.csv", "Tệp quá lớn: tối đa 20 MB"),
    ],
)
async def test_a_file_that_is_not_a_question_sheet_is_refused_with_a_clear_message(data: bytes, name: str, says: str) -> None:
    report = await transfer.import_questions(data, name, dry_run=False)
    assert not report.ok and report.imported == 0 and report.file_error is not None
    assert says in report.lines()[0], report.lines()


async def test_a_header_without_questions_and_too_many_rows_are_refused(monkeypatch) -> None:
    slug, _ = await new_topic()
    assert "chỉ có dòng tiêu đề" in (await transfer.import_questions(xlsx([]), "rong.xlsx")).lines()[0]
    monkeypatch.setattr(transfer_read, "MAX_ROWS", 3)
    many = xlsx([row(slug, unique(f"Câu {i}")) for i in range(4)])
    report = await transfer.import_questions(many, "nhieu.xlsx", dry_run=False)
    assert report.lines() == ["Tệp có quá nhiều câu hỏi: tối đa 3 dòng mỗi lần nhập."] and not await questions_of(slug)


async def test_formula_cells_are_refused_per_row_and_never_evaluated() -> None:
    slug, _ = await new_topic()
    data = xlsx([row(slug, unique("Công thức ở đáp án"), correct='=IF(1,"A","B")'), row(slug, "=1+1"), row(slug, unique("Tốt"))])
    report = await transfer.import_questions(data, "congthuc.xlsx", dry_run=False)
    assert report.lines() == [
        "Dòng 2: ô “Đáp án đúng” là công thức; chỉ nhận giá trị (không bắt đầu bằng dấu =).",
        "Dòng 3: ô “Câu hỏi” là công thức; chỉ nhận giá trị (không bắt đầu bằng dấu =).",
    ]
    csv_data = ",".join(transfer.HEADER) + "\n" + f'{slug},2,"=HYPERLINK(""http://x"")",A,B,,,,,A,,,có\n'
    assert "là công thức" in (await transfer.import_questions(csv_data.encode(), "a.csv")).lines()[0]
    assert not await questions_of(slug)


async def test_an_import_that_fails_midway_writes_nothing(monkeypatch) -> None:
    slug, _ = await new_topic()
    monkeypatch.setattr(transfer, "CHUNK", 2)  # rows per INSERT
    data = xlsx([row(slug, unique(f"Câu số {i}")) for i in range(5)])

    def fail_on_second_chunk(phase: str, done: int, total: int) -> None:
        if phase == "write" and done > 2:
            raise RuntimeError("máy chủ mất điện")

    with pytest.raises(RuntimeError):
        await transfer.import_questions(data, "x.xlsx", dry_run=False, progress=fail_on_second_chunk)
    assert not await questions_of(slug)
    assert (await transfer.import_questions(data, "x.xlsx", dry_run=False)).imported == 5


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "zip"])
async def test_an_export_imported_again_changes_nothing(fmt: str) -> None:
    slug, name = await new_topic()
    original = [
        row(slug, unique("Ứng dụng VNeID dùng để làm gì?"), "Định danh điện tử", "Chơi game", "Nghe nhạc", correct="A",
            explanation="VNeID là ứng dụng định danh điện tử quốc gia; “mức 2” cần xác thực khuôn mặt.", tags="VNeID, định danh"),
        row(name, unique("Dấu hiệu lừa đảo, giả mạo qua mạng: “chuyển khoản gấp”?"), "Có", "Không", correct="A,B", difficulty=1),
        row(slug, unique("Câu, có dấu phẩy; chấm phẩy và \"ngoặc kép\"\nxuống dòng"), "Ổn", "Ừ", "Đ", "ở", "ữa", "ỹ",
            correct="F", difficulty=3, active="không"),
        row(slug, unique("Địa chỉ nào?"), "@gmail.com", "'quoted", "+84 là mã", "-5"),
    ]  # fmt: skip
    assert (await transfer.import_questions(xlsx(original), "goc.xlsx", dry_run=False)).imported == 4
    before = await export.export_rows(slug)
    stored = await questions_of(slug)
    exported = await export.export_file(fmt, slug)
    assert exported.startswith(b"\xef\xbb\xbf" if fmt == "csv" else b"PK\x03\x04")
    checked = await transfer.import_questions(exported, f"xuat.{fmt}", dry_run=True)
    assert checked.ok and (checked.new, checked.changed, checked.unchanged) == (0, 0, 4), checked.lines()
    report = await transfer.import_questions(exported, f"xuat.{fmt}", dry_run=False)
    assert report.ok and (report.imported, report.changed, report.unchanged) == (0, 0, 4), report.lines()
    assert await questions_of(slug) == stored and await export.export_rows(slug) == before
    assert await export.export_file(fmt, slug) == exported or fmt != "csv"  # xlsx zips carry timestamps


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "contest.cli", "questions", *args],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_cli_reports_bad_rows_and_exits_non_zero(tmp_path: Path) -> None:
    slug, _ = await new_topic()
    bad = tmp_path / "sai.xlsx"
    bad.write_bytes(xlsx([row(slug, unique("Tốt")), row(slug, unique("Thiếu đáp án"), correct="")]))
    done = cli("import", str(bad), "--dry-run")
    assert done.returncode != 0 and "Dòng 3: thiếu đáp án đúng." in done.stderr
    done = cli("import", str(bad))
    assert done.returncode != 0 and not await questions_of(slug)
    good = tmp_path / "tot.csv"
    good.write_bytes(export.to_csv([row(slug, unique(f"Câu CLI {i}")) for i in range(3)]))
    assert cli("import", str(good), "--dry-run").returncode == 0 and not await questions_of(slug)
    done = cli("import", str(good))
    assert done.returncode == 0 and "đã nhập 3 câu hỏi" in done.stdout and len(await questions_of(slug)) == 3
    out = tmp_path / "xuat.csv"
    assert cli("export", str(out), "--topic", slug).returncode == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbf") and out.read_text(encoding="utf-8-sig").count("Câu CLI") == 3
    assert cli("import", str(tmp_path / "khong-co.xlsx")).returncode != 0
    entries = await AuditEntry.select(AuditEntry.detail).where(AuditEntry.action == "questions.import")
    assert any(json.loads(e["detail"]).get("via") == "cli" for e in entries)


async def upload(client, data: bytes, name: str, dry_run: bool = True):  # type: ignore[no-untyped-def]
    form = await client.get("/staff/questions/transfer/")
    fields = {"_csrf_token": csrf_of(form.text)} | ({"dry_run": "1"} if dry_run else {})
    return await client.post("/staff/questions/transfer/check", data=fields, files={"file": (name, data)})


async def test_an_organiser_checks_a_file_then_confirms_the_import(client) -> None:
    slug, _ = await new_topic()
    await sign_in(client, await staff("organiser"))
    page = await client.get("/staff/questions/transfer/")
    assert page.status_code == 200 and 'name="dry_run" value="1" checked' in page.text
    bad = await upload(client, xlsx([row(slug, unique("Tốt")), row(slug, unique("Một"), "Chỉ một")]), "sai.xlsx")
    assert bad.status_code == 422 and "Dòng 3: cần ít nhất 2 phương án trả lời." in bad.text and "Xác nhận" not in bad.text
    assert (await upload(client, PNG, "anh.xlsx")).status_code == 422
    good = await upload(client, xlsx([row(slug, unique(f"Câu web {i}")) for i in range(4)]), "tot.xlsx")
    assert good.status_code == 200 and "Xác nhận: thêm 4, sửa 0 câu hỏi" in good.text and not await questions_of(slug)
    token = good.text.split('name="token" value="')[1].split('"')[0]
    done = await client.post("/staff/questions/transfer/confirm", data={"_csrf_token": csrf_of(good.text), "token": token})
    assert done.status_code == 200 and "Đã nhập 4 câu hỏi" in done.text and len(await questions_of(slug)) == 4
    again = await client.post("/staff/questions/transfer/confirm", data={"_csrf_token": csrf_of(good.text), "token": token})
    assert again.status_code == 422 and "hết hạn" in again.text  # the file was imported: no second time
    assert await AuditEntry.exists().where((AuditEntry.action == "questions.import") & (AuditEntry.target == "tot.xlsx"))


async def test_an_organiser_downloads_the_bank_and_the_template(client) -> None:
    slug, _ = await new_topic()
    await transfer.import_questions(xlsx([row(slug, unique("Câu xuất"))]), "x.xlsx", dry_run=False)
    await sign_in(client, await staff("organiser"))
    csv_file = await client.get("/staff/questions/transfer/export", params={"format": "csv", "topic": slug})
    assert csv_file.status_code == 200 and csv_file.content.startswith(b"\xef\xbb\xbf")
    assert f'filename="cau-hoi-{slug}.csv"' in csv_file.headers["content-disposition"]
    assert csv_file.content.decode("utf-8-sig").count("\n") == 2
    whole = await client.get("/staff/questions/transfer/export", params={"format": "xlsx"})
    book = openpyxl.load_workbook(io.BytesIO(whole.content), read_only=True)
    assert sum(1 for _ in book.worksheets[0].iter_rows()) > 64
    blank = await client.get("/staff/questions/transfer/template")
    book = openpyxl.load_workbook(io.BytesIO(blank.content))
    assert book.sheetnames == ["Câu hỏi", "Hướng dẫn"]
    sheet = book["Câu hỏi"]
    assert [c.value for c in sheet[1]] == transfer.HEADER and sheet.max_row == 3
    assert (await transfer.import_questions(blank.content, "mau.xlsx")).ok
    assert await AuditEntry.exists().where((AuditEntry.action == "questions.export") & (AuditEntry.target == slug))


async def test_a_large_file_is_imported_by_a_worker_with_a_progress_bar(client, worker, monkeypatch) -> None:
    slug, _ = await new_topic()
    monkeypatch.setattr(jobs, "BACKGROUND_BYTES", 0)
    await sign_in(client, await staff("organiser"))
    started = await upload(client, xlsx([row(slug, unique(f"Câu nền {i}")) for i in range(1500)]), "lon.xlsx")
    assert started.status_code == 200 and 'hx-trigger="every 1s"' in started.text and "<progress" in started.text
    token = started.text.split("/progress/")[1].split('"')[0]
    worker()
    checked = await client.get(f"/staff/questions/transfer/progress/{token}")
    assert "1.500 câu hỏi, tất cả hợp lệ" in checked.text and "every 1s" not in checked.text
    confirm = await client.post("/staff/questions/transfer/confirm", data={"_csrf_token": csrf_of(checked.text), "token": token})
    assert 'hx-trigger="every 1s"' in confirm.text
    worker()
    done = await client.get(f"/staff/questions/transfer/progress/{token}")
    assert "Đã nhập 1.500 câu hỏi" in done.text and len(await questions_of(slug)) == 1500


async def test_only_organisers_and_admins_reach_import_and_export(client) -> None:
    anonymous = await client.get("/staff/questions/transfer/")
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/staff/login?next=")
    assert (await client.get("/staff/questions/transfer/export")).status_code == 302
    await sign_in(client, await staff("official", [11560]))
    for path in ("/staff/questions/transfer/", "/staff/questions/transfer/export", "/staff/questions/transfer/template"):
        assert (await client.get(path)).status_code == 403
    home = await client.get("/staff/")
    refused = await client.post(
        "/staff/questions/transfer/check", data={"_csrf_token": csrf_of(home.text)}, files={"file": ("a.csv", b"x")}
    )
    assert refused.status_code == 403
    client.cookies.clear()
    await sign_in(client, await staff("admin"))
    assert (await client.get("/staff/questions/transfer/")).status_code == 200
