"""Question import and export: xlsx and UTF-8 CSV, one row per question, validated in full before anything is written."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from contest import clock, xlsx
from contest.i18n import DEFAULT, message
from contest.questions.service import duplicates_among, repeated
from contest.questions.tables import DIFFICULTIES, Option, Question, Topic
from contest.settings import ROOT
from contest.staff.audit import audit
from contest.text import fold, nfc, same_key

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
# Blank rows are skipped, but not endlessly: a sheet claiming a million rows is refused after this many.
MAX_SHEET_ROWS = MAX_ROWS + 10_000
MAX_COLUMNS = 64  # cells further right are never read
MAX_UNPACKED = 200 * 1024 * 1024  # an xlsx's parts, uncompressed
MAX_OPTIONS = 6
MIN_OPTIONS = 2
MAX_TEXT = 2000
MAX_TAG = 40  # Question.tags is varchar(40)[]
CHUNK = 1000  # rows per INSERT and per progress report
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
INSTRUCTIONS = ROOT / "templates" / "questions" / "transfer" / "instructions.txt"

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
}
COLUMNS = list(LABELS)
HEADER = [f"{label} ({key})" for key, label in LABELS.items()]
REQUIRED = ("topic", "text", "option_a", "option_b", "correct")
_BY_FOLDED = {fold(label): key for key, label in LABELS.items()} | {"do kho": "difficulty"}
_KEY_IN_HEADER = re.compile(r"\(\s*([a-z_]+)\s*\)\s*$", re.I)
_OPTION_HEADER = re.compile(r"^(?:phuong an|option)[ _]([a-z])$")
_YES = {"co", "c", "x", "1", "true", "yes", "y", "dang dung"}
_NO = {"khong", "k", "0", "false", "no", "n", "ngung"}

Progress = Callable[[str, int, int], None]  # phase ("read" | "write"), done, total


class TransferError(Exception):
    """The file as a whole is refused (not a spreadsheet, empty, too big, no header…): code and params."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def text(self, lang: str = DEFAULT) -> str:
        return message(self.code, lang, **self.params)


@dataclass
class RowError:
    row: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = DEFAULT) -> str:
        return message("import_row", lang, row=self.row, error=message(self.code, lang, **self.params))


@dataclass
class Report:
    """What an import found and did. Nothing is written unless `errors` is empty and it was not a dry run."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: int = 0
    dry_run: bool = True
    file_error: TransferError | None = None

    @property
    def ok(self) -> bool:
        return self.file_error is None and not self.errors

    def lines(self, lang: str = DEFAULT) -> list[str]:
        """Every problem, one line each, in row order."""
        if self.file_error is not None:
            return [self.file_error.text(lang)]
        return [e.text(lang) for e in self.errors]

    def as_dict(self, lang: str = DEFAULT) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported, "dry_run": self.dry_run, "ok": self.ok, "lines": self.lines(lang)}


@dataclass
class Row:
    number: int  # as the spreadsheet shows it: the header is row 1
    cells: dict[str, str]
    formulas: list[str] = field(default_factory=list)  # column keys holding a formula
    stray: bool = False  # a value in a column without a header


@dataclass
class Item:
    row: int
    topic: int
    text: str
    normalized: str
    options: list[str]
    correct: set[int]
    explanation: str
    difficulty: int
    tags: list[str]
    active: bool


# --------------------------------------------------------------------------- reading


def read_rows(data: bytes, filename: str = "") -> list[Row]:
    """The data rows of an xlsx or UTF-8 CSV file, recognised by content; refuses what is not one."""
    if not data:
        raise TransferError("import_file_empty")
    if len(data) > MAX_BYTES:
        raise TransferError("import_file_too_big", mb=MAX_BYTES // (1024 * 1024))
    name = filename.lower()
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise TransferError("import_file_xls")
    if data.startswith(b"PK\x03\x04"):
        if name.endswith(".csv"):
            raise TransferError("import_file_not_csv")
        return _rows(_xlsx_cells(data), typed=True)
    if name.endswith((".xlsx", ".xlsm", ".xls")):
        raise TransferError("import_file_not_xlsx")
    return _rows(_csv_cells(data), typed=False)


def _xlsx_cells(data: bytes) -> Iterator[list[tuple[Any, bool]]]:
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
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # the sheet's own <dimension> may claim a million rows by 16,384 columns
        # Read without data_only, a formula cell's value is its "=..." text: reported, never evaluated. A string cell
        # that starts with "=" is text, as our own exports write it.
        for cells in sheet.iter_rows(max_col=MAX_COLUMNS):
            yield [(cell.value, cell.data_type == "f") for cell in cells]
    except Exception as exc:
        raise TransferError("import_file_not_spreadsheet") from exc
    finally:
        book.close()


def _csv_cells(data: bytes) -> Iterator[list[tuple[Any, bool]]]:
    # NUL anywhere: UTF-16, or a binary file; PostgreSQL could not store it in a text either.
    if b"\x00" in data:
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


def _rows(table: Iterable[list[tuple[Any, bool]]], typed: bool) -> list[Row]:
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
            text = xlsx.unescape_formula(raw)  # "'=..." as our exports write it: text, not a formula
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


# --------------------------------------------------------------------------- checking


def _letters(value: str) -> list[str] | None:
    parts = [p.strip().upper() for p in re.split(r"[,;/\s]+", value) if p.strip()]
    return parts if all(len(p) == 1 and p in LETTERS for p in parts) else None


def _check(row: Row, topics: dict[str, int]) -> Item | list[RowError]:
    """One row as a question, or every problem it has."""
    errors: list[RowError] = []

    def bad(code: str, **params: Any) -> None:
        errors.append(RowError(row.number, code, params))

    for key in row.formulas:
        bad("import_formula", column=LABELS.get(key, key))
    if row.formulas:
        return errors
    if row.stray:
        bad("import_cell_outside")
    c = row.cells
    topic = c.get("topic", "")
    topic_id = topics.get(topic.lower()) or topics.get(fold(topic))
    if not topic:
        bad("import_topic_missing")
    elif topic_id is None:
        bad("import_topic_unknown", value=topic)
    difficulty = 2
    if c.get("difficulty"):
        try:
            difficulty = int(c["difficulty"])
        except ValueError:
            difficulty = 0
        if difficulty not in DIFFICULTIES:
            bad("import_difficulty_invalid", value=c["difficulty"])
    text = c.get("text", "")
    if not text:
        bad("import_text_missing")
    elif len(text) > MAX_TEXT:
        bad("import_text_too_long", max=MAX_TEXT)
    filled = [(k[-1].upper(), v) for k, v in c.items() if k.startswith("option_") and v]
    filled.sort()
    letters = [letter for letter, _ in filled]
    options = [v for _, v in filled]
    if any(letter >= LETTERS[MAX_OPTIONS] for letter in letters):
        bad("import_options_too_many", max=MAX_OPTIONS)
    elif len(options) < MIN_OPTIONS:
        bad("import_options_too_few", min=MIN_OPTIONS)
    elif letters != list(LETTERS[: len(letters)]):
        gap = next(x for x, y in zip(LETTERS, letters, strict=False) if x != y)
        bad("import_option_gap", letter=gap)
    clash = repeated(options)
    if clash:
        first, second = clash
        bad(
            "import_option_repeated",
            letter=letters[second],
            text=options[second],
            other=letters[first],
            other_text=options[first],
        )
    correct: set[int] = set()
    if not c.get("correct"):
        bad("import_correct_missing")
    else:
        chosen = _letters(c["correct"])
        if chosen is None:
            bad("import_correct_invalid", value=c["correct"])
        else:
            for letter in chosen:
                if letter not in letters:
                    bad("import_correct_not_option", letter=letter)
                else:
                    correct.add(letters.index(letter))
    tags: list[str] = []
    for tag in (t.strip() for t in c.get("tags", "").split(",")):
        if tag and tag not in tags:
            tags.append(tag)
            if len(tag) > MAX_TAG:
                bad("import_tag_too_long", tag=tag[:20], max=MAX_TAG)
    active = True
    if c.get("active"):
        word = fold(c["active"])
        if word not in _YES | _NO:
            bad("import_active_invalid", value=c["active"])
        active = word in _YES
    if errors:
        return errors
    assert topic_id is not None
    return Item(row.number, topic_id, text, fold(text), options, correct, c.get("explanation", ""), difficulty, tags, active)


async def topic_lookup() -> dict[str, int]:
    """Slug (lower-case) and folded Vietnamese name -> topic id: a file may name a topic either way."""
    rows = await Topic.select(Topic.id, Topic.slug, Topic.name)
    return {r["slug"].lower(): r["id"] for r in rows} | {fold(r["name"]): r["id"] for r in rows}


async def check_rows(rows: list[Row], progress: Progress | None = None) -> tuple[list[Item], list[RowError]]:
    """Every row checked against the bank: the questions, or every problem of every row."""
    topics = await topic_lookup()
    items: list[Item] = []
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    for i, row in enumerate(rows, start=1):
        checked = _check(row, topics)
        if isinstance(checked, list):
            errors.extend(checked)
        else:
            key = same_key(checked.text)
            if key in first_row:
                errors.append(RowError(row.number, "import_duplicate_row", {"other": first_row[key]}))
            else:
                first_row[key] = row.number
                items.append(checked)
        if progress and i % CHUNK == 0:
            progress("read", i, len(rows))
    in_bank = await duplicates_among([item.text for item in items])
    errors.extend(
        RowError(it.row, "import_duplicate_bank", {"id": in_bank[same_key(it.text)]})
        for it in items
        if same_key(it.text) in in_bank
    )
    errors.sort(key=lambda e: e.row)
    return items, errors


# --------------------------------------------------------------------------- writing

_INSERT_QUESTIONS = """
INSERT INTO question (id, topic, text, explanation, active, difficulty, tags, normalized, created_at, updated_at)
SELECT q.id, q.topic, q.text, q.explanation, q.active, q.difficulty,
       ARRAY(SELECT jsonb_array_elements_text(q.tags::jsonb))::varchar(40)[], q.normalized, {}, {}
FROM unnest({}::int[], {}::int[], {}::text[], {}::text[], {}::bool[], {}::int[], {}::text[], {}::text[])
     AS q(id, topic, text, explanation, active, difficulty, tags, normalized)
"""
_INSERT_OPTIONS = """
INSERT INTO option (question, position, text, is_correct)
SELECT * FROM unnest({}::int[], {}::int[], {}::text[], {}::bool[])
"""


async def _write(items: list[Item], progress: Progress | None) -> None:
    now = clock.now()
    ids = await Question.raw(
        "SELECT nextval(pg_get_serial_sequence('question', 'id')) AS id FROM generate_series(1, {})", len(items)
    )
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        qids = [r["id"] for r in ids[start : start + CHUNK]]
        await Question.raw(
            _INSERT_QUESTIONS,
            now,
            now,
            qids,
            [it.topic for it in chunk],
            [it.text for it in chunk],
            [it.explanation for it in chunk],
            [it.active for it in chunk],
            [it.difficulty for it in chunk],
            [json.dumps(it.tags, ensure_ascii=False) for it in chunk],
            [it.normalized for it in chunk],
        )
        opts = [
            (qid, pos, text, pos in it.correct)
            for qid, it in zip(qids, chunk, strict=True)
            for pos, text in enumerate(it.options)
        ]
        await Option.raw(_INSERT_OPTIONS, *(list(col) for col in zip(*opts, strict=True)))
        if progress:
            progress("write", start + len(chunk), len(items))


async def import_questions(
    data: bytes,
    filename: str = "",
    *,
    dry_run: bool = True,
    progress: Progress | None = None,
    staff_id: int | None = None,
    via: str = "web",
) -> Report:
    """Check every row of a file and, unless a dry run or any row is bad, add all its questions in one transaction."""
    report = await _import(data, filename, dry_run, progress)
    await audit(
        staff_id,
        "questions.import.check" if dry_run else "questions.import",
        filename or "-",
        via=via,
        rows=report.rows,
        imported=report.imported,
        errors=len(report.lines()),
        bytes=len(data),
    )
    return report


async def _import(data: bytes, filename: str, dry_run: bool, progress: Progress | None) -> Report:
    report = Report(dry_run=dry_run)
    try:
        rows = read_rows(data, filename)
    except TransferError as exc:
        report.file_error = exc
        return report
    report.rows = len(rows)
    if dry_run:
        _, report.errors = await check_rows(rows, progress)
        return report
    async with Question._meta.db.transaction():
        # One import at a time, re-checked under the lock: two uploads of one file cannot both pass the duplicate check.
        await Question.raw("SELECT pg_advisory_xact_lock(hashtext('question-import'))")
        items, report.errors = await check_rows(rows, progress)
        if report.errors:
            return report
        await _write(items, progress)
        report.imported = len(items)
    return report


def file_kind(path: str | Path) -> str:
    """'csv' or 'xlsx', from a file name the CLI was given."""
    return "csv" if str(path).lower().endswith(".csv") else "xlsx"
