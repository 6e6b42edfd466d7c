"""The bank through Excel and back: an export carries each question's id, so the edited file updates those questions
(a new version where already drawn), adds the rows without an id, and says what changes before it does."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import openpyxl
from PIL import Image

from contest.attempts import starting
from contest.attempts.tables import AttemptItem
from contest.contests.tables import Contest
from contest.questions import export, transfer
from contest.questions.tables import Option, Question
from contest.uploads import media_dir
from tests.questions.test_transfer import cli, new_topic, questions_of, row, unique, upload, xlsx
from tests.staff.test_signin import csrf_of, sign_in, staff

TEXT = transfer.HEADER.index("Câu hỏi (text)")
CORRECT = transfer.HEADER.index("Đáp án đúng (correct)")
IMAGE = transfer.HEADER.index("Ảnh (image)")
ID = transfer.HEADER.index("Mã câu hỏi (không sửa) (id)")


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, format="PNG")
    return out.getvalue()


def edited(book: bytes, edit: dict[int, dict[int, object]]) -> bytes:
    """The workbook with some cells retyped, as an organiser does in Excel: question id -> column -> value."""
    workbook = openpyxl.load_workbook(io.BytesIO(book))
    sheet = workbook.worksheets[0]
    for cells in sheet.iter_rows(min_row=2):
        for column, value in edit.get(int(cells[ID].value), {}).items():
            cells[column].value = value
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def test_an_export_edited_in_two_rows_changes_exactly_those_two_questions(client, new_round) -> None:
    slug, _ = await new_topic()
    texts = [unique(f"Câu vòng tròn {i}") for i in range(5)]
    assert (await transfer.import_questions(xlsx([row(slug, t, "Có", "Không") for t in texts]), dry_run=False)).imported == 5
    case = await new_round()
    await Contest.update({Contest.quotas: json.dumps({slug: 1})}).where(Contest.id == case.contest_id)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    drawn = (await AttemptItem.select().where(AttemptItem.attempt == attempt_id).first())["question"]
    before = {q["id"]: q for q in await questions_of(slug)}
    spare = next(qid for qid in before if qid != drawn)

    await sign_in(client, await staff("organiser"))
    book = await client.get("/staff/questions/transfer/export", params={"format": "xlsx", "topic": slug})
    new_text = unique("Câu đã sửa trong Excel")
    data = edited(book.content, {drawn: {TEXT: new_text}, spare: {CORRECT: "B"}})

    checked = await upload(client, data, "da-sua.xlsx")
    assert checked.status_code == 200, checked.text
    assert "Câu hỏi mới: 0" in checked.text and "Câu hỏi sửa: 2" in checked.text and "Câu hỏi không đổi: 3" in checked.text
    assert f"câu hỏi số {drawn} — sửa nội dung." in checked.text and f"câu hỏi số {spare} — sửa đáp án đúng." in checked.text
    assert {q["id"]: q for q in await questions_of(slug)} == before  # a dry run writes nothing
    token = checked.text.split('name="token" value="')[1].split('"')[0]
    done = await client.post("/staff/questions/transfer/confirm", data={"_csrf_token": csrf_of(checked.text), "token": token})
    assert done.status_code == 200 and "Câu hỏi sửa: 2" in done.text

    after = {q["id"]: q for q in await questions_of(slug)}
    newer = after[drawn]["replaced_by"]
    assert newer is not None and not after[drawn]["active"] and after[newer]["text"] == new_text
    assert after[drawn]["text"] == before[drawn]["text"]  # the attempt keeps the wording it was given
    keys = await Option.select(Option.is_correct).where(Option.question == spare).order_by(Option.position)
    assert [k["is_correct"] for k in keys] == [False, True] and after[spare]["replaced_by"] is None  # never drawn: in place
    untouched = set(before) - {drawn, spare}
    assert all(after[qid] == before[qid] for qid in untouched) and len(after) == 6

    # The same file again: its row for the drawn question names a retired version.
    again = await transfer.import_questions(data, "da-sua.xlsx", dry_run=True)
    assert any(f"câu hỏi số {drawn} đã có phiên bản mới hơn (số {newer})" in line for line in again.lines()), again.lines()
    # A fresh export, imported again from the command line, changes nothing.
    fresh = await export.export_file("xlsx", slug)
    path = Path(f"/tmp/h19q-{uuid.uuid4().hex}.xlsx")
    path.write_bytes(fresh)
    try:
        done_cli = cli("import", str(path))
    finally:
        path.unlink()
    assert done_cli.returncode == 0 and "0 mới, 0 sửa, 5 không đổi" in done_cli.stdout, done_cli.stdout + done_cli.stderr
    assert {q["id"]: q for q in await questions_of(slug)} == after


async def test_a_row_without_an_id_is_added_and_an_unknown_id_is_refused() -> None:
    slug, _ = await new_topic()
    await transfer.import_questions(xlsx([row(slug, unique("Câu có sẵn"))]), dry_run=False)
    rows = await export.export_rows(slug)
    extra = row(slug, unique("Câu thêm dưới bảng"))
    report = await transfer.import_questions(xlsx([*rows, extra]), "them.xlsx", dry_run=False)
    assert (report.imported, report.changed, report.unchanged) == (1, 0, 1) and len(await questions_of(slug)) == 2
    unknown = [*row(slug, unique("Câu mã lạ")), "", 99_999_999]
    assert (await transfer.import_questions(xlsx([unknown]), "la.xlsx")).lines() == [
        "Dòng 2: mã câu hỏi “99999999” không có trong ngân hàng (để trống ô này khi thêm câu hỏi mới)."
    ]


async def test_images_travel_with_the_bank_in_a_zip() -> None:
    slug, _ = await new_topic()
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("cau-hoi.xlsx", xlsx([[*row(slug, unique("Câu có ảnh đỏ")), "do.png"]]))
        z.writestr("anh/do.png", png("red"))
    first = await transfer.import_questions(zipped.getvalue(), "co-anh.zip", dry_run=False)
    assert first.ok and first.imported == 1, first.lines()
    question = (await questions_of(slug))[0]
    assert question["image"].endswith(".webp") and (media_dir() / question["image"]).is_file()

    bundle = await export.export_file("zip", slug)
    archive = zipfile.ZipFile(io.BytesIO(bundle))
    assert sorted(archive.namelist()) == ["cau-hoi.xlsx", f"images/{question['image']}"]
    again = await transfer.import_questions(bundle, "xuat.zip", dry_run=False)
    assert (again.imported, again.changed, again.unchanged) == (0, 0, 1), again.lines()

    # Another image for the question, and a new question with one, in the same zip.
    sheet = edited(archive.read("cau-hoi.xlsx"), {question["id"]: {IMAGE: "xanh.png"}})
    book = openpyxl.load_workbook(io.BytesIO(sheet))
    book.worksheets[0].append([*row(slug, unique("Câu mới có ảnh")), "xanh.png"])
    out = io.BytesIO()
    book.save(out)
    changed = io.BytesIO()
    with zipfile.ZipFile(changed, "w") as z:
        z.writestr("cau-hoi.xlsx", out.getvalue())
        z.writestr("images/xanh.png", png("blue"))
    report = await transfer.import_questions(changed.getvalue(), "doi-anh.zip", dry_run=False)
    assert (report.imported, report.changed) == (1, 1) and report.change_lines() == [
        f"Dòng 2: câu hỏi số {question['id']} — sửa ảnh."
    ]
    images = {q["image"] for q in await questions_of(slug)}
    assert len(images) == 1 and question["image"] not in images and (media_dir() / images.pop()).is_file()
    missing = await transfer.import_questions(out.getvalue(), "thieu-anh.xlsx")
    assert "ảnh “xanh.png” không có trong tệp zip" in missing.lines()[0]


async def test_questions_on_another_sheet_are_named_in_the_message() -> None:
    slug, _ = await new_topic()
    book = openpyxl.Workbook()
    book.active.title = "Hướng dẫn"
    book.active.append(["Điền câu hỏi vào trang bên cạnh."])
    questions = book.create_sheet("Câu hỏi của xã")
    questions.append(transfer.HEADER)
    questions.append(row(slug, unique("Câu ở trang hai")))
    out = io.BytesIO()
    book.save(out)
    report = await transfer.import_questions(out.getvalue(), "hai-trang.xlsx")
    assert report.lines() == [
        "Trang đầu tiên “Hướng dẫn” không có câu hỏi; câu hỏi nằm ở trang “Câu hỏi của xã”. "
        "Hãy đưa trang “Câu hỏi của xã” lên đầu (kéo thẻ trang sang trái) rồi lưu lại."
    ]
    assert "on the sheet “Câu hỏi của xã”" in report.lines("en")[0]
    assert not await questions_of(slug)
    assert await Question.count() > 0
