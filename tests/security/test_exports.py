"""Formula injection: every xlsx we write stores text as string cells, which no spreadsheet evaluates, with no
visible guard; every CSV puts a quote before text a spreadsheet would run as a formula (= + - @ tab CR); our importer
reads either back as the text it was."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from datetime import UTC, datetime

import openpyxl
import pytest

from contest import xlsx
from contest.officials.service import ContestantRow, contestants_xlsx
from contest.questions import transfer
from contest.questions.service import QuestionDraft, create_question
from contest.questions.tables import Option, Question
from contest.results.service import EXPORT_HEADER, to_xlsx
from tests.questions.test_transfer import new_topic
from tests.staff.test_signin import sign_in, staff


def cells(data: bytes) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def assert_no_formula(data: bytes) -> list[str]:
    """Every cell is a value (none is a formula to Excel), every text a string cell; returns the text cells."""
    found = cells(data)
    assert found and all(c.data_type != "f" for c in found)
    assert all(c.data_type == "s" for c in found if isinstance(c.value, str))
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet
    return [c.value for c in found if isinstance(c.value, str)]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+84 912 345 678", "'+84 912 345 678"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("'quoted", "''quoted"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("1+1=2", "1+1=2"),
        (-5, -5),
        (None, None),
    ],
)
def test_text_that_looks_like_a_formula_gets_a_leading_quote_and_comes_back_unchanged(value, written) -> None:  # type: ignore[no-untyped-def]
    assert xlsx.escape_formula(value) == written
    if isinstance(value, str):
        assert xlsx.unescape_formula(written) == value


async def test_the_question_export_neither_runs_nor_loses_a_formula_looking_question(client) -> None:
    slug, _ = await new_topic()
    topic = (await Question.raw("SELECT id FROM topic WHERE slug = {}", slug))[0]["id"]
    text = f'=HYPERLINK("http://x/{uuid.uuid4().hex[:8]}","y")'
    draft = QuestionDraft(topic, text, ["+84 là mã Việt Nam", "-1 độ", "@ là a còng", "Bình thường"], [0], "=1+1 là 2")
    qid = await create_question(draft, None)
    await sign_in(client, await staff("organiser"))
    book = await client.get("/staff/questions/transfer/export", params={"format": "xlsx", "topic": slug})
    assert book.status_code == 200
    texts = assert_no_formula(book.content)
    assert text in texts and "+84 là mã Việt Nam" in texts and "=1+1 là 2" in texts and "@ là a còng" in texts
    sheet = await client.get("/staff/questions/transfer/export", params={"format": "csv", "topic": slug})
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    flat = [value for row in rows for value in row]
    assert "'" + text in flat and "'-1 độ" in flat and "'@ là a còng" in flat
    assert not [v for v in flat if v.startswith(("=", "+", "-", "@"))]

    # Both files import back as the very same question: nothing changes.
    for data, name in ((book.content, "xuat.xlsx"), (sheet.content, "xuat.csv")):
        report = await transfer.import_questions(data, name, dry_run=False)
        assert report.ok and (report.imported, report.changed, report.unchanged) == (0, 0, 1), report.lines()
    back = await Question.select().where(Question.text == text).first()
    assert back is not None and back["id"] == qid and back["explanation"] == "=1+1 là 2"
    options = await Option.select(Option.text).where(Option.question == back["id"]).order_by(Option.position)
    assert [o["text"] for o in options] == draft.options


async def test_a_typed_formula_in_an_import_is_still_refused(client) -> None:
    slug, _ = await new_topic()
    data = (",".join(transfer.HEADER) + f'\n{slug},2,"=HYPERLINK(""http://x"",""y"")",A,B,,,,,A,,,có\n').encode()
    report = await transfer.import_questions(data, "a.csv", dry_run=False)
    assert report.lines() == ["Dòng 2: ô “Câu hỏi” là công thức; chỉ nhận giá trị (không bắt đầu bằng dấu =)."]


def test_contestant_and_result_sheets_escape_names_and_reasons() -> None:
    hostile = '=HYPERLINK("http://x","y")'
    people = contestants_xlsx(
        [ContestantRow(1, hostile, "+84912345678", 1990, "citizens", 1, 3, 61000, datetime.now(UTC))], {"citizens": "-x"}
    )
    texts = assert_no_formula(people)
    assert hostile in texts and "+84912345678" in texts and "-x" in texts
    row = [1, hostile, "0912345678", 1990, "Phường A", "Người dân", 3, 10, 0, 61.0, "", "@giải", "không", "=cmd|' /C calc'!A0"]
    assert len(row) == len(EXPORT_HEADER)
    texts = assert_no_formula(to_xlsx("Vòng 1", [row]))
    assert hostile in texts and "@giải" in texts and "=cmd|' /C calc'!A0" in texts


def test_an_xlsx_shows_an_address_as_typed_and_keeps_a_leading_quote_exact() -> None:
    data = xlsx.workbook("Thư", ["Thư"], [["@gmail.com"], ["'@gmail.com"], ["'quoted"], ["nguyenvanan@gmail.com"]])
    texts = assert_no_formula(data)
    # What Excel shows is what was written; only a quote an import would strip as a guard is doubled.
    assert texts == ["Thư", "@gmail.com", "''@gmail.com", "'quoted", "nguyenvanan@gmail.com"]
    assert [xlsx.unescape_formula(t) for t in texts[1:]] == ["@gmail.com", "'@gmail.com", "'quoted", "nguyenvanan@gmail.com"]
