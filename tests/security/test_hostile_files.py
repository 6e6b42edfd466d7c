"""Hostile files fed to the real import paths: questions (xlsx/CSV), populations (xlsx) and question images.

Each is refused with a clear Vietnamese message, quickly and without a crash, and nothing is half-imported. The files
are made here, in memory: no binary file is committed.
"""

from __future__ import annotations

import io
import struct
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable

import openpyxl
import pytest
from PIL import Image

from contest.i18n import InputError
from contest.leaderboard.population import import_population
from contest.people.tables import Commune
from contest.questions import transfer
from contest.questions.tables import Question
from contest.uploads import prepare_image
from tests.questions.test_transfer import row

NOT_SPREADSHEET = "Tệp không phải bảng tính .xlsx hoặc .csv đọc được."
ENCODING = "Tệp CSV không ở mã UTF-8."
TOO_MANY = "Tệp có quá nhiều câu hỏi: tối đa 50.000 dòng mỗi lần nhập."
BOMB = "Tệp bảng tính khi giải nén quá lớn (tối đa"
UTF16 = "Tệp CSV ở mã UTF-16"
MACRO = "Tệp có chứa macro (VBA) nên không được nhận."
DOCTYPE = "Tệp bảng tính chứa khai báo XML không được phép (DOCTYPE/ENTITY)"
LINKS = "Tệp có liên kết tới tệp khác (liên kết ngoài)."
FORMULA = "là công thức; chỉ nhận giá trị"
UNREADABLE = "Không đọc được tệp: hãy dùng tệp Excel .xlsx theo tệp mẫu."
IMAGE_INVALID = "Tệp tải lên không phải là ảnh hợp lệ (chấp nhận JPEG, PNG, WebP, GIF)."
IMAGE_TOO_LARGE = "Ảnh quá lớn: tối đa 5 MB và 40 triệu điểm ảnh."
# A hostile file is answered at once, never after minutes of parsing.
SECONDS = 20

# --------------------------------------------------------------------------- building xlsx files by hand


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def question_book(rows: int = 1) -> bytes:
    return workbook([transfer.HEADER, *[row("digital_awareness", f"Câu {uuid.uuid4().hex}") for _ in range(rows)]])


def population_book() -> bytes:
    return workbook([["Mã xã/phường", "Tên xã/phường", "Dân số"], [11560, "", 1000]])


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None, **types: str) -> bytes:
    """The same xlsx with some parts replaced or added (and content types for the added ones)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    assert set(replace or {}) <= set(source.namelist()) and not set(add or {}) & set(source.namelist())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = (replace or {}).get(info.filename, source.read(info.filename))
            if info.filename == "[Content_Types].xml":
                for part, kind in types.items():
                    body = body.replace(b"</Types>", f'<Override PartName="/{part}" ContentType="{kind}"/></Types>'.encode())
            target.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        for name, body in (add or {}).items():
            target.writestr(name, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def with_strings(base: bytes, strings: bytes) -> bytes:
    """The xlsx with a shared strings part (openpyxl writes inline strings; Excel writes this part, and it is read
    whole when the file is opened)."""
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    return rezip(base, add={"xl/sharedStrings.xml": strings}, **{"xl/sharedStrings.xml": kind})


def sheet_xml(rows: str, dimension: str = "A1:C2") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows}</sheetData></worksheet>'
    ).encode()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def header_row() -> str:
    letters = "ABCDEFGHIJKLMNO"
    return '<row r="1">' + "".join(inline(f"{letters[i]}1", h) for i, h in enumerate(transfer.HEADER)) + "</row>"


def zip_bomb(base: bytes) -> bytes:
    """sharedStrings.xml of 60 MB of one letter: about 60 KB once compressed."""
    strings = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    strings += b"A" * (60 * 1024 * 1024) + b"</t></si></sst>"
    return with_strings(base, strings)


def lying_sizes(base: bytes) -> bytes:
    """A zip whose directory says the sheet is 100 bytes long: zipfile reads no more, and the CRC fails."""
    data = bytearray(rezip(base))
    at = data.rfind(b"xl/worksheets/sheet1.xml")  # the central directory's entry for the sheet
    header = at - 46
    assert data[header : header + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, header + 24, 100)  # uncompressed size
    return bytes(data)


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode() for i in range(9))
    + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    b"<si><t>&j;</t></si></sst>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
)


def doctype_behind_a_comment(base: bytes) -> bytes:
    """The DOCTYPE pushed 200 KB down by a comment, past any quick look at the start of the part."""
    source = zipfile.ZipFile(io.BytesIO(base))
    sheet = source.read("xl/worksheets/sheet1.xml")
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    hidden = b'<?xml version="1.0"?><!--' + b"x" * 200_000 + b'--><!DOCTYPE worksheet [<!ENTITY e "boom">]>' + body
    return rezip(base, replace={"xl/worksheets/sheet1.xml": hidden})


def with_external_link(base: bytes) -> bytes:
    link = (
        b'<?xml version="1.0"?><externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId1">'
        b'<sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>'
    )
    rels = (
        b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath"'
        b' Target="\\\\attacker.example\\share\\book.xlsx" TargetMode="External"/></Relationships>'
    )
    return rezip(
        base,
        add={"xl/externalLinks/externalLink1.xml": link, "xl/externalLinks/_rels/externalLink1.xml.rels": rels},
        **{"xl/externalLinks/externalLink1.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"},
    )


def macro_book(base: bytes) -> bytes:
    """An .xlsm saved under an .xlsx name: a VBA project and the macro-enabled content type."""
    data = rezip(base, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 512})
    source = zipfile.ZipFile(io.BytesIO(data))
    types = source.read("[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    return rezip(data, replace={"[Content_Types].xml": types})


def million_rows(base: bytes, columns: int = 13) -> bytes:
    """A header and then a million data rows (a few MB once compressed)."""
    body = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(2, 1_000_002))
    return rezip(base, replace={"xl/worksheets/sheet1.xml": sheet_xml(header_row() + body, "A1:M1000001")})


def far_corner(base: bytes, first: str) -> bytes:
    """A sheet whose <dimension> and one cell sit at XFD1048576, the last cell Excel has."""
    body = first + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    return rezip(base, replace={"xl/worksheets/sheet1.xml": sheet_xml(body, "A1:XFD1048576")})


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "không phải bảng tính")
        z.writestr("cau-hoi.csv", ",".join(transfer.HEADER))
    return out.getvalue()


def bank_zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def csv_of(*lines: str) -> str:
    return "\n".join([",".join(transfer.HEADER), *lines]) + "\n"


def good_line() -> str:
    return f"digital_awareness,2,Câu hỏi {uuid.uuid4().hex},Đúng,Sai,,,,,A,Giải thích,,có"


# --------------------------------------------------------------------------- questions

QUESTION_FILES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "zip bomb (60 MB of shared strings)": (lambda: zip_bomb(question_book()), "bom.xlsx", BOMB),
    "zip directory lying about sizes": (lambda: lying_sizes(question_book()), "doi.xlsx", NOT_SPREADSHEET),
    "billion laughs in sharedStrings": (
        lambda: with_strings(question_book(), BILLION_LAUGHS),
        "cuoi.xlsx",
        DOCTYPE,
    ),
    "external entity (XXE) in the sheet": (
        lambda: rezip(question_book(), replace={"xl/worksheets/sheet1.xml": XXE}),
        "xxe.xlsx",
        DOCTYPE,
    ),
    "DOCTYPE behind a 200 KB comment": (lambda: doctype_behind_a_comment(question_book()), "an.xlsx", DOCTYPE),
    "external links to another workbook": (lambda: with_external_link(question_book()), "lienket.xlsx", LINKS),
    "macro workbook renamed .xlsx": (lambda: macro_book(question_book()), "macro.xlsx", MACRO),
    "a zip that is not a workbook": (plain_zip, "nen.xlsx", NOT_SPREADSHEET),
    "a million rows": (lambda: million_rows(question_book()), "trieu.xlsx", TOO_MANY),
    "one cell at XFD1048576": (lambda: far_corner(question_book(), header_row()), "goc.xlsx", TOO_MANY),
    "shared string index out of range": (
        lambda: rezip(
            question_book(),
            replace={"xl/worksheets/sheet1.xml": sheet_xml(header_row() + '<row r="2"><c r="A2" t="s"><v>99999</v></c></row>')},
        ),
        "hong.xlsx",
        NOT_SPREADSHEET,
    ),
    "formula pointing into another workbook": (
        lambda: workbook([transfer.HEADER, row("digital_awareness", "=[1]Sheet1!A1")]),
        "ngoai.xlsx",
        FORMULA,
    ),
    "UTF-16 CSV without a BOM": (lambda: csv_of(good_line()).encode("utf-16-le"), "u16.csv", UTF16),
    "UTF-16 big-endian CSV": (lambda: csv_of(good_line()).encode("utf-16-be"), "u16be.csv", UTF16),
    # Legacy code pages cannot even hold every Vietnamese letter of the header: "?" stands in, as Excel would write.
    "Windows-1258 CSV": (
        lambda: csv_of("digital_awareness,2,Đáp án đúng là gì,Đúng,Sai,,,,,A,,,có").encode("cp1258", "replace"),
        "w.csv",
        ENCODING,
    ),
    "latin-1 CSV": (
        lambda: csv_of("digital_awareness,2,Qu'est-ce que ça,Oui,Non,,,,,A,,,có").encode("latin-1", "replace"),
        "l.csv",
        ENCODING,
    ),
    "CSV with a NUL byte far down": (
        lambda: (csv_of(*[good_line() for _ in range(100)]) + "digital_awareness,2,a\x00b,Đúng,Sai,,,,,A,,,có\n").encode(),
        "nul.csv",
        "Tệp CSV chứa ký tự rỗng (byte 0",
    ),
    "CSV cell of 200 KB": (
        lambda: csv_of(f'digital_awareness,2,"{"x" * 200_000}",Đúng,Sai,,,,,A,,,có').encode(),
        "dai.csv",
        NOT_SPREADSHEET,
    ),
    "a bank zip holding a zip bomb beside the sheet": (
        lambda: bank_zip({"cau-hoi.csv": csv_of(good_line()).encode(), "images/a.png": b"\0" * (150 * 1024 * 1024)}),
        "bom.zip",
        BOMB,
    ),
    "a bank zip with two sheets": (
        lambda: bank_zip({"a.csv": csv_of(good_line()).encode(), "b.xlsx": question_book()}),
        "hai.zip",
        "Tệp zip cần đúng một bảng tính",
    ),
    "a bank zip whose sheet is a zip bomb": (lambda: bank_zip({"cau-hoi.xlsx": zip_bomb(question_book())}), "b.zip", BOMB),
    "a bank zip whose image is a PDF": (
        lambda: bank_zip(
            {
                "cau-hoi.csv": csv_of(good_line() + ",x.png").encode(),
                "images/x.png": b"%PDF-1.7\n1 0 obj<<>>endobj\n",
            }
        ),
        "pdf.zip",
        "ảnh “x.png”: Tệp tải lên không phải là ảnh hợp lệ",
    ),
    "a million-line CSV": (lambda: (csv_of() + "x,y\n" * 1_000_000).encode(), "trieu.csv", TOO_MANY),
    "PDF named .csv": (
        lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n" + b"\x00" * 64,
        "cau-hoi.csv",
        NOT_SPREADSHEET,
    ),
}


@pytest.mark.parametrize("case", list(QUESTION_FILES))
async def test_a_hostile_question_file_is_refused_with_a_clear_message_and_nothing_imported(case: str) -> None:
    build, filename, says = QUESTION_FILES[case]
    data = build()
    assert len(data) <= transfer.MAX_BYTES, len(data)
    before = await Question.count()
    started = time.monotonic()
    report = await transfer.import_questions(data, filename, dry_run=False)
    assert time.monotonic() - started < SECONDS
    assert not report.ok and report.imported == 0
    assert any(says in line for line in report.lines()), report.lines()
    assert await Question.count() == before


async def test_a_lying_dimension_alone_costs_nothing_and_the_rows_still_read() -> None:
    rows = "".join(
        '<row r="{n}">{cells}</row>'.format(
            n=n, cells=inline(f"A{n}", "digital_awareness") + inline(f"C{n}", f"Câu {uuid.uuid4().hex}")
            + inline(f"D{n}", "Đúng") + inline(f"E{n}", "Sai") + inline(f"J{n}", "A")
        )
        for n in (2, 3)
    )  # fmt: skip
    data = rezip(question_book(), replace={"xl/worksheets/sheet1.xml": sheet_xml(header_row() + rows, "A1:XFD1048576")})
    started = time.monotonic()
    report = await transfer.import_questions(data, "rong.xlsx", dry_run=True)
    assert time.monotonic() - started < 5
    assert report.ok and report.rows == 2, report.lines()


async def test_a_utf8_csv_without_a_bom_is_fine() -> None:
    report = await transfer.import_questions(csv_of(good_line()).encode(), "khong-bom.csv", dry_run=True)
    assert report.ok and report.rows == 1, report.lines()


# --------------------------------------------------------------------------- populations


async def populations() -> list[tuple[int, int | None]]:
    return [(r["code"], r["population"]) for r in await Commune.select(Commune.code, Commune.population).order_by(Commune.code)]


POPULATION_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "zip bomb": (lambda: zip_bomb(population_book()), BOMB),
    "billion laughs": (lambda: with_strings(population_book(), BILLION_LAUGHS), DOCTYPE),
    "external entity (XXE)": (lambda: rezip(population_book(), replace={"xl/worksheets/sheet1.xml": XXE}), DOCTYPE),
    "external links": (lambda: with_external_link(population_book()), LINKS),
    "macro workbook": (lambda: macro_book(population_book()), MACRO),
    "a zip that is not a workbook": (plain_zip, UNREADABLE),
    "a CSV": (lambda: "Mã xã/phường,Tên xã/phường,Dân số\n11560,,1000\n".encode(), UNREADABLE),
    "an empty file": (lambda: b"", UNREADABLE),
    "a file over 5 MB": (lambda: b"PK\x03\x04" + b"\x00" * (5 * 1024 * 1024), "Tệp dân số quá lớn (tối đa 5 MB)."),
    "one cell at XFD1048576": (
        lambda: far_corner(population_book(), '<row r="1"><c r="A1"><v>1</v></c></row>'),
        "Tệp dân số có quá nhiều dòng: tối đa 20.000 dòng.",
    ),
}


@pytest.mark.parametrize("case", list(POPULATION_FILES))
async def test_a_hostile_population_file_is_refused_and_no_population_changes(case: str) -> None:
    build, says = POPULATION_FILES[case]
    before = await populations()
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        await import_population(build())
    assert time.monotonic() - started < SECONDS
    assert refused.value.messages("vi")["file"].startswith(says), refused.value.messages("vi")
    assert await populations() == before


async def test_a_population_formula_is_refused_by_row_not_evaluated() -> None:
    before = await populations()
    data = workbook([["Mã xã/phường", "Tên xã/phường", "Dân số"], [11560, "", "=1000*1000"], [11557, "", 1500]])
    report = await import_population(data)
    assert not report.ok and report.updated == 0
    assert report.problems == [(2, "population_formula", {"value": "=1000*1000"})]
    assert await populations() == before


# --------------------------------------------------------------------------- images


def png(width: int = 8, height: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header, with almost nothing behind it (a decompression bomb's calling card)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024, 9)) + chunk(b"IEND", b"")


def png_bomb() -> bytes:
    """A real 1-bit PNG of 10,000 x 10,000 pixels: 100 megapixels in a few kilobytes."""
    rows = b"".join(b"\x00" + b"\x00" * (10_000 // 8) for _ in range(10_000))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 10_000, 10_000, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def jpeg(width: int = 64, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((width, height), 60).convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def tiff() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "TIFF")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>'
HTML_PAYLOAD = b"<html><body><script>fetch('/staff/people/').then(r=>r.text()).then(alert)</script></body></html>"

IMAGE_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "PNG decompression bomb (100 megapixels)": (png_bomb, IMAGE_TOO_LARGE),
    "PNG header claiming 8,000 x 8,000": (lambda: png_header_only(8000, 8000), IMAGE_TOO_LARGE),
    "PNG header claiming 100,000 x 100,000": (lambda: png_header_only(100_000, 100_000), IMAGE_TOO_LARGE),
    "truncated JPEG": (lambda: (lambda whole: whole[: len(whole) // 2])(jpeg()), IMAGE_INVALID),
    "SVG with a script": (lambda: SVG, IMAGE_INVALID),
    "GIF header in front of HTML (polyglot)": (lambda: b"GIF89a/*\x00\x00*/=1;" + HTML_PAYLOAD, IMAGE_INVALID),
    "PDF renamed .png": (lambda: b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF", IMAGE_INVALID),
    "HTML page renamed .jpg": (lambda: HTML_PAYLOAD, IMAGE_INVALID),
    "an empty file": (lambda: b"", IMAGE_INVALID),
    "a file over 5 MB": (lambda: png() + b"\x00" * (5 * 1024 * 1024), IMAGE_TOO_LARGE),
    "TIFF": (tiff, IMAGE_INVALID),
}


@pytest.mark.parametrize("case", list(IMAGE_FILES))
def test_a_hostile_image_is_refused_with_a_clear_message(case: str) -> None:
    build, says = IMAGE_FILES[case]
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        prepare_image(build())
    assert time.monotonic() - started < SECONDS
    assert refused.value.messages("vi") == {"image": says}


def test_a_png_with_html_behind_it_comes_out_as_a_clean_webp() -> None:
    """A valid picture carrying a payload after its end: only its pixels survive the re-encoding."""
    image = prepare_image(png(40, 30) + HTML_PAYLOAD)
    assert image.data[:4] == b"RIFF" and image.data[8:12] == b"WEBP" and image.name.endswith(".webp")
    assert b"<script" not in image.data and b"<html" not in image.data and (image.width, image.height) == (40, 30)


async def test_a_hostile_image_on_the_question_form_stores_neither_question_nor_file(client) -> None:
    from contest.uploads import media_dir
    from tests.staff.test_signin import csrf_of, sign_in, staff

    await sign_in(client, await staff("organiser"))
    form = await client.get("/staff/questions/new")
    topic = (await Question.raw("SELECT id FROM topic WHERE slug = 'digital_awareness'"))[0]["id"]
    folder = media_dir()
    files_before = sorted(p.name for p in folder.glob("*")) if folder.exists() else []
    before = await Question.count()
    for name, data in (("bom.png", png_bomb()), ("x.svg", SVG), ("a.png", b"GIF89a" + HTML_PAYLOAD)):
        done = await client.post(
            "/staff/questions",
            data={
                "_csrf_token": csrf_of(form.text),
                "topic": str(topic),
                "text": f"Câu có ảnh {uuid.uuid4().hex}",
                "option": ["Đúng", "Sai"],
                "correct": ["0"],
                "difficulty": "2",
                "active": "1",
            },
            files={"image": (name, data, "image/png")},
        )
        assert done.status_code == 422, (name, done.status_code)
        assert IMAGE_TOO_LARGE in done.text or IMAGE_INVALID in done.text, name
    assert await Question.count() == before
    assert (sorted(p.name for p in folder.glob("*")) if folder.exists() else []) == files_before
