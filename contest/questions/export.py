"""Question export: the bank as xlsx, UTF-8 CSV with BOM (Excel opens it right), or a zip of the workbook and its
images; each row carries its question's id, so the file edited and imported again updates the bank. Also the
template organisers fill in."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from contest import db, xlsx
from contest.questions.transfer import INSTRUCTIONS
from contest.questions.transfer_read import HEADER, LETTERS, MAX_OPTIONS
from contest.staff.audit import audit
from contest.uploads import media_dir


async def export_rows(topic: str | None = None) -> list[list[Any]]:
    """The bank (or one topic, by slug) as rows under HEADER: current questions, not the retired versions of edits."""
    where = "q.replaced_by IS NULL" + (" AND t.slug = {}" if topic else "")
    questions = await db.raw(
        f"""SELECT q.id, t.slug, q.difficulty, q.text, q.explanation, q.tags, q.active, q.image,
                   array_agg(o.text ORDER BY o.position) AS options, array_agg(o.is_correct ORDER BY o.position) AS keys
            FROM question q JOIN topic t ON t.id = q.topic JOIN option o ON o.question = q.id
            WHERE {where} GROUP BY q.id, t.slug ORDER BY t.slug, q.id""",
        *([topic] if topic else []),
    )
    out = []
    for q in questions:
        options = list(q["options"])[:MAX_OPTIONS]
        correct = ",".join(LETTERS[i] for i, k in enumerate(q["keys"]) if k and i < MAX_OPTIONS)
        out.append(
            [
                q["slug"],
                q["difficulty"],
                q["text"],
                *options,
                *[""] * (MAX_OPTIONS - len(options)),
                correct,
                q["explanation"],
                ", ".join(q["tags"] or []),
                "có" if q["active"] else "không",
                q["image"] or "",
                q["id"],
            ]
        )
    return out


def to_xlsx(rows: list[list[Any]], instructions: bool = False) -> bytes:
    """An xlsx workbook: the header and the rows (strings kept as text, never as formulas), plus the instructions sheet."""
    book = xlsx.new_book()
    xlsx.add_sheet(book, "Câu hỏi", HEADER, rows, widths=[22, 10, 60, *[30] * MAX_OPTIONS, 12, 40, 20, 10, 24, 12])
    if instructions:
        guide = book.create_sheet("Hướng dẫn")
        guide.column_dimensions["A"].width = 110
        for line in INSTRUCTIONS.read_text(encoding="utf-8").splitlines():
            guide.append([line])
    return xlsx.to_bytes(book)


def to_csv(rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads the Vietnamese right), comma-separated, CRLF; text that looks like a formula
    gets a leading quote, as in the xlsx."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows([xlsx.escape_formula(value) for value in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


IMAGE_COLUMN = HEADER.index("Ảnh (image)")


def to_zip(rows: list[list[Any]]) -> bytes:
    """The workbook and, beside it under images/, every image its rows name (the image column holds the file name)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cau-hoi.xlsx", to_xlsx(rows))
        for name in sorted({row[IMAGE_COLUMN] for row in rows if row[IMAGE_COLUMN]}):
            path = media_dir() / name
            if path.is_file():
                archive.write(path, f"images/{name}", compress_type=zipfile.ZIP_STORED)  # WebP is compressed already
    return out.getvalue()


async def export_file(fmt: str, topic: str | None = None, *, staff_id: int | None = None, via: str = "web") -> bytes:
    """The bank (or one topic) as xlsx, csv or zip (xlsx and images) bytes; the export is recorded in the audit log."""
    rows = await export_rows(topic)
    await audit(staff_id, "questions.export", topic or "*", via=via, format=fmt, questions=len(rows))
    return to_csv(rows) if fmt == "csv" else to_zip(rows) if fmt == "zip" else to_xlsx(rows)


def template_file() -> bytes:
    """The blank to fill in: the header, two example rows and the instructions sheet."""
    examples = [
        ["digital_awareness", 1, "Ngày Chuyển đổi số quốc gia là ngày nào?", "1/6", "10/10", "2/9", "20/11", "", "", "B",
         "Ngày 10/10 hằng năm là Ngày Chuyển đổi số quốc gia.", "chuyển đổi số, ngày lễ", "có"],
        ["Tương tác an toàn trên môi trường số", 2, "Những việc nào giúp bảo vệ tài khoản mạng xã hội?",
         "Bật xác thực hai lớp", "Dùng chung mật khẩu cho mọi tài khoản", "Dùng mật khẩu mạnh, riêng cho từng tài khoản",
         "Gửi mã OTP cho người lạ", "", "", "A,C", "Xác thực hai lớp và mật khẩu riêng làm kẻ gian khó chiếm tài khoản.",
         "an toàn, mật khẩu", "có"],
    ]  # fmt: skip
    return to_xlsx(examples, instructions=True)
