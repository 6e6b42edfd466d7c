"""Reading a question file: xlsx, UTF-8 CSV, or a zip of either with its images, into rows under a known header.

Nothing here looks at the bank; what a row means is transfer_check's business."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from contest import xlsx
from contest.i18n import DEFAULT, message
from contest.text import fold, nfc

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
# Blank rows are skipped, but not endlessly: a sheet claiming a million rows is refused after this many.
MAX_SHEET_ROWS = MAX_ROWS + 10_000
MAX_COLUMNS = 64  # cells further right are never read
MAX_UNPACKED = 200 * 1024 * 1024  # an xlsx's parts, or a bank zip's files, uncompressed
MAX_OPTIONS = 6
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
IMAGE_SUFFIXES = (".webp", ".png", ".jpg", ".jpeg", ".gif")
HEADER_SEARCH_ROWS = 20  # how far down another sheet is searched for the header

# Column key -> header label. The key in brackets is what the importer matches on; the label may be retyped freely.
LABELS = {
    "topic": "Chủ đề",
    "difficulty": "Độ khó 1-3",
    "text": "Câu hỏi",
    **{f"option_{c.lower()}": f"Phương án {c}" for c in LETTERS[:MAX_OPTIONS]},
    "correct": "Đáp án đúng",
    "explanation": "Giải thích",
    "tags": "Thẻ",
    "active": "Đang dùng",
    "image": "Ảnh",
    "id": "Mã câu hỏi (không sửa)",
}
HEADER = [f"{label} ({key})" for key, label in LABELS.items()]
REQUIRED = ("topic", "text", "option_a", "option_b", "correct")
_BY_FOLDED = {fold(label): key for key, label in LABELS.items()} | {"do kho": "difficulty", "ma cau hoi": "id"}
_KEY_IN_HEADER = re.compile(r"\(\s*([a-z_]+)\s*\)\s*$", re.I)
_OPTION_HEADER = re.compile(r"^(?:phuong an|option)[ _]([a-z])$")

Cells = Iterable[list[tuple[Any, bool]]]  # each row's (value, is a formula)


class TransferError(Exception):
    """The file as a whole is refused (not a spreadsheet, empty, too big, no header…): code and params."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def text(self, lang: str = DEFAULT) -> str:
        return message(self.code, lang, **self.params)


@dataclass
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    cells: dict[str, str]
    formulas: list[str] = field(default_factory=list)  # column keys holding a formula
    stray: bool = False  # a value in a column without a header


@dataclass
class Sheet:
    """What a file holds: its rows, and for a zip the images beside the workbook, by file name."""

    rows: list[Row]
    images: dict[str, bytes] = field(default_factory=dict)


def read_file(data: bytes, filename: str = "") -> Sheet:
    """The rows of an xlsx or UTF-8 CSV file, or of a zip holding one and its images, recognised by content."""
    _check_size(data)
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TransferError("import_file_xls")
    named_book = name.endswith((".xlsx", ".xlsm", ".csv"))
    if data.startswith(b"PK\x03\x04") and (name.endswith(".zip") or not (named_book or _is_workbook(data))):
        return _read_bundle(data)
    return Sheet(read_rows(data, filename))


def read_rows(data: bytes, filename: str = "") -> list[Row]:
    """The data rows of an xlsx or UTF-8 CSV file, recognised by content; refuses what is not one."""
    _check_size(data)
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TransferError("import_file_xls")
    if data.startswith(b"PK\x03\x04"):
        if name.endswith(".csv"):
            raise TransferError("import_file_not_csv")
        return _xlsx_rows(data)
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        raise TransferError("import_file_not_xlsx")
    return _rows(_csv_cells(data, name.endswith((".csv", ".txt"))), typed=False)


def _check_size(data: bytes) -> None:
    if not data:
        raise TransferError("import_file_empty")
    if len(data) > MAX_BYTES:
        raise TransferError("import_file_too_big", mb=MAX_BYTES // (1024 * 1024))


def _is_workbook(data: bytes) -> bool:
    try:
        return "[Content_Types].xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return True  # not a readable zip: the workbook checks say so


def _read_bundle(data: bytes) -> Sheet:
    """A zip of one workbook (xlsx or CSV) and its images; sizes and ratios checked before anything is inflated."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = [p for p in archive.infolist() if not p.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise TransferError("import_file_not_spreadsheet") from exc
    mb = MAX_UNPACKED // (1024 * 1024)
    if len(parts) > xlsx.MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED:
        raise TransferError("xlsx_unpacked_too_big", mb=mb)
    if any(p.file_size > xlsx.RATIO_FLOOR and p.file_size > xlsx.MAX_RATIO * max(p.compress_size, 1) for p in parts):
        raise TransferError("xlsx_unpacked_too_big", mb=mb)
    # Only base names count: a member's folders are never used to write anything.
    # Finder's __MACOSX/ copies and hidden files are not the organiser's.
    visible = [p for p in parts if "__MACOSX" not in p.filename and not PurePosixPath(p.filename).name.startswith(".")]
    sheets = [p for p in visible if p.filename.lower().endswith((".xlsx", ".csv"))]
    if len(sheets) != 1:
        raise TransferError("import_zip_sheets", count=len(sheets))
    images: dict[str, bytes] = {}
    try:
        sheet = archive.read(sheets[0])
        for part in visible:
            base = PurePosixPath(part.filename).name
            if base.lower().endswith(IMAGE_SUFFIXES):
                if base in images:
                    raise TransferError("import_zip_image_twice", name=base)
                images[base] = archive.read(part)
    except (zipfile.BadZipFile, KeyError, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        raise TransferError("import_file_not_spreadsheet") from exc  # a broken or encrypted member
    return Sheet(read_rows(sheet, sheets[0].filename), images)


def _xlsx_rows(data: bytes) -> list[Row]:
    import openpyxl

    try:
        xlsx.inspect_upload(data, MAX_UNPACKED)
    except xlsx.UnsafeWorkbook as exc:
        code = "import_file_not_spreadsheet" if exc.code == "xlsx_not_workbook" else exc.code
        raise TransferError(code, **exc.params) from exc
    # openpyxl raises many kinds of errors on a damaged file, while opening it or while reading its rows.
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:
        raise TransferError("import_file_not_spreadsheet") from exc
    try:
        try:
            return _rows(_sheet_cells(book.worksheets[0]), typed=True)
        except TransferError as exc:
            if exc.code not in ("import_header_missing", "import_file_empty"):
                raise
            other = next((s.title for s in book.worksheets[1:] if _has_header(s)), None)
            if other is None:
                raise
            raise TransferError("import_sheet_other", sheet=other, first=book.worksheets[0].title) from exc
    except TransferError:
        raise
    except Exception as exc:
        raise TransferError("import_file_not_spreadsheet") from exc
    finally:
        book.close()


def _sheet_cells(sheet: Any) -> Iterator[list[tuple[Any, bool]]]:
    sheet.reset_dimensions()  # the sheet's own <dimension> may claim a million rows by 16,384 columns
    # Read without data_only, a formula cell's value is its "=..." text: reported, never evaluated. A string cell
    # that starts with "=" is text, as our own exports write it.
    for cells in sheet.iter_rows(max_col=MAX_COLUMNS):
        yield [(cell.value, cell.data_type == "f") for cell in cells]


def _has_header(sheet: Any) -> bool:
    """Whether a sheet's first filled row (within the first few) is a question header."""
    for i, record in enumerate(_sheet_cells(sheet)):
        if i >= HEADER_SEARCH_ROWS:
            return False
        if any(str(v or "").strip() for v, _ in record):
            return set(REQUIRED) <= {_header_key(v) for v, _ in record}
    return False


def _csv_cells(data: bytes, named_csv: bool) -> Iterator[list[tuple[Any, bool]]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (named_csv and _looks_utf16(data)):
        raise TransferError("import_file_utf16")
    # NUL anywhere else: a damaged text, or (not named .csv) a file of another kind; PostgreSQL could not store it.
    if b"\x00" in data:
        at = data.index(b"\x00")
        if named_csv and _is_text(data[:at]):
            raise TransferError("import_file_nul", at=at)
        raise TransferError("import_file_not_spreadsheet")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TransferError("import_file_encoding") from exc
    first = text.split("\n", 1)[0]
    # Excel with Vietnamese regional settings saves CSV with semicolons.
    delimiter = max(",;\t", key=first.count)
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield [(value, False) for value in record[:MAX_COLUMNS]]
    except csv.Error as exc:  # e.g. a cell longer than the csv module's 128 KiB limit
        raise TransferError("import_file_not_spreadsheet") from exc


def _is_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3  # a letter cut at the end is still text
    return True


def _looks_utf16(data: bytes) -> bool:
    """UTF-16 without a byte order mark: Latin text has a NUL in every other byte."""
    head = data[:200]
    odd, even = head[1::2].count(0), head[0::2].count(0)
    half = len(head) // 2
    return len(head) >= 4 and (odd > half * 0.4 > even * 4 or even > half * 0.4 > odd * 4)


def _header_key(value: Any) -> str | None:
    raw = str(value or "").strip()
    if not raw:
        return None
    bracket = _KEY_IN_HEADER.search(raw)
    candidates = [bracket.group(1).lower()] if bracket else []
    candidates += [fold(raw), fold(_KEY_IN_HEADER.sub("", raw)), raw.lower()]
    for candidate in candidates:
        if candidate in LABELS:
            return candidate
        if candidate in _BY_FOLDED:
            return _BY_FOLDED[candidate]
        letter = _OPTION_HEADER.match(candidate.replace("_", " ")) or _OPTION_HEADER.match(candidate)
        if letter:
            return f"option_{letter.group(1)}"
    return ""  # a header we do not know


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return nfc(str(value))


def _rows(table: Cells, typed: bool) -> list[Row]:
    """The rows under the header; `typed` when cells say whether they hold a formula (xlsx), else "=…" is one (CSV)."""
    cells = iter(table)
    keys: list[str | None] = []
    too_many = TransferError("import_too_many_rows", max=f"{MAX_ROWS:,}".replace(",", "."))
    for blank, header in enumerate(cells):
        if blank >= MAX_SHEET_ROWS:
            raise too_many
        if any(str(v or "").strip() for v, _ in header):
            keys = [_header_key(v) for v, _ in header]
            break
    else:
        raise TransferError("import_file_empty")
    seen: set[str] = set()
    for key in keys:
        if key and key in seen:
            raise TransferError("import_header_repeated", column=key)
        seen.update([key] if key else [])
    missing = [LABELS[k] for k in REQUIRED if k not in seen]
    if missing:
        raise TransferError("import_header_missing", columns=", ".join(missing))
    rows: list[Row] = []
    for number, record in enumerate(cells, start=2):
        if number > MAX_SHEET_ROWS:
            raise too_many
        if not any(v is not None and str(v).strip() for v, _ in record):
            continue
        if len(rows) >= MAX_ROWS:
            raise too_many
        row = Row(number, {})
        for i, (value, is_formula) in enumerate(record):
            key = keys[i] if i < len(keys) else None
            raw = _cell_text(value)
            text = xlsx.unescape_formula(raw)  # "'=..." as our CSV exports write it (and older xlsx ones)
            if not key:
                row.stray = row.stray or bool(text)
                continue
            if is_formula or (not typed and text == raw and text.startswith("=")):
                row.formulas.append(key)
            row.cells[key] = text
        rows.append(row)
    if not rows:
        raise TransferError("import_no_rows")
    return rows
