"""Writing xlsx sheets the way organisers need them (a bold frozen header, text kept as text, never a formula),
and looking inside uploaded ones before openpyxl parses them.

An xlsx cell says what it holds: a string cell is shown as typed and never evaluated, so "=…" or "@gmail.com"
is written as it is, with no guard. CSV cells say nothing, so CSV text a spreadsheet would evaluate gets a quote."""

from __future__ import annotations

import io
import xml.parsers.expat
import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets once the file is re-saved or
# opened as CSV ("=HYPERLINK(...)", "+cmd|..."); the quote is escaped too, so that unescape_formula is exact.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_formula(value: Any) -> Any:
    """Text that a spreadsheet could take for a formula, with a leading single quote (OWASP's CSV injection advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescape_formula(text: str) -> str:
    """The text escape_formula was given: an import reads back what an export wrote."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def cell_text(value: str) -> str:
    """A string as an xlsx string cell holds it: as it is, unless it starts with a quote that unescape_formula would
    take for a guard (older exports wrote guards in xlsx too, and an import still reads them back)."""
    return "'" + value if unescape_formula(value) != value else value


def add_sheet(
    book: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int] = ()
) -> WriteOnlyWorksheet:
    """A sheet with a bold, frozen header; strings are string cells, so "=…" or "+84…" is never a formula or a number."""
    sheet = book.create_sheet(title[:31])
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    head = []
    for label in header:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font = bold
        head.append(cell)
    sheet.append(head)
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=cell_text(value))
                cell.data_type = "s"  # openpyxl would take "=…" for a formula
            else:
                cell = WriteOnlyCell(sheet, value=value)
            cells.append(cell)
        sheet.append(cells)
    return sheet


def new_book() -> Workbook:
    return Workbook(write_only=True)


def to_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]], widths: Sequence[int] = ()) -> bytes:
    """A one-sheet workbook as bytes."""
    book = new_book()
    add_sheet(book, title, header, rows, widths)
    return to_bytes(book)


# --------------------------------------------------------------------------- uploads

MAX_PARTS = 10_000
# Real sheets' XML compresses 5-30 times; a zip bomb compresses thousands of times. Small parts may do as they like.
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024


class UnsafeWorkbook(Exception):
    """An uploaded xlsx refused before openpyxl opens it; `code` is a message code, `params` its values."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class _Doctype(Exception):
    pass


class _Root(Exception):
    pass


def _declares_doctype(stream: IO[bytes]) -> bool:
    """Whether an XML part has a DOCTYPE (the only place entities live); read only up to its root element."""
    parser = xml.parsers.expat.ParserCreate()

    def doctype(*_: Any) -> None:
        raise _Doctype

    def root(*_: Any) -> None:
        raise _Root

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    try:
        while chunk := stream.read(64 * 1024):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Doctype:
        return True
    except _Root:
        return False
    except xml.parsers.expat.ExpatError as exc:
        raise UnsafeWorkbook("xlsx_not_workbook") from exc
    return False


def inspect_upload(data: bytes, max_unpacked: int) -> None:
    """Refuse (UnsafeWorkbook) an xlsx that is not a plain workbook of sane size: a zip bomb, macros, links to other
    files, or XML with a DOCTYPE (entity expansion: Excel never writes one)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise UnsafeWorkbook("xlsx_not_workbook") from exc
    names = {p.filename.lower() for p in parts}
    if "[content_types].xml" not in names:
        raise UnsafeWorkbook("xlsx_not_workbook")
    mb = max_unpacked // (1024 * 1024)
    # Sizes from the zip's directory: zipfile never inflates a part past its declared size (it fails the CRC instead).
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > max_unpacked:
        raise UnsafeWorkbook("xlsx_unpacked_too_big", mb=mb)
    if any(p.file_size > RATIO_FLOOR and p.file_size > MAX_RATIO * max(p.compress_size, 1) for p in parts):
        raise UnsafeWorkbook("xlsx_unpacked_too_big", mb=mb)
    if any(n.endswith("vbaproject.bin") for n in names):
        raise UnsafeWorkbook("xlsx_macro")
    if any(n.startswith("xl/externallinks/") for n in names):
        raise UnsafeWorkbook("xlsx_external_links")
    try:
        with archive.open("[Content_Types].xml") as f:
            if b"macroenabled" in f.read().lower():
                raise UnsafeWorkbook("xlsx_macro")
        for part in parts:
            if part.filename.lower().endswith((".xml", ".rels", ".vml")):
                with archive.open(part) as f:
                    if _declares_doctype(f):
                        raise UnsafeWorkbook("xlsx_doctype")
    except (zipfile.BadZipFile, KeyError, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        # A broken or encrypted part, or a compression method zipfile does not know.
        raise UnsafeWorkbook("xlsx_not_workbook") from exc
