"""Question import: a file (xlsx, UTF-8 CSV, or a zip of either with images) checked in full, then its new
questions added and its changed ones saved (a new version where already drawn), all in one transaction.

Reading a file is transfer_read's idea, checking rows transfer_check's; this module applies them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contest import clock, db
from contest.i18n import DEFAULT, message
from contest.questions.service import QuestionDraft, save_edit
from contest.questions.tables import Question
from contest.questions.transfer_check import CHUNK, Checked, Item, Progress, RowError, check_rows
from contest.questions.transfer_read import HEADER, MAX_BYTES, TransferError, read_file
from contest.settings import ROOT
from contest.staff.audit import audit
from contest.uploads import store_image

__all__ = ["HEADER", "INSTRUCTIONS", "MAX_BYTES", "Report", "TransferError", "file_kind", "import_questions"]

INSTRUCTIONS = ROOT / "templates" / "questions" / "transfer" / "instructions.txt"


@dataclass
class Report:
    """What an import found and did. Nothing is written unless `errors` is empty and it was not a dry run."""

    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: int = 0  # new questions added
    changed: int = 0  # questions whose rows changed them (found, or saved)
    unchanged: int = 0
    new: int = 0  # rows without an id (found, or added)
    changes: list[tuple[int, int, list[str]]] = field(default_factory=list)  # row, question id, what it changes
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

    def change_lines(self, lang: str = DEFAULT) -> list[str]:
        """Each changed row: its number, the question and what changes."""
        return [
            message(
                "import_row_changes",
                lang,
                row=row,
                id=qid,
                fields=", ".join(message(f"import_field_{name}", lang) for name in fields),
            )
            for row, qid, fields in self.changes
        ]

    def as_dict(self, lang: str = DEFAULT) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "changes": self.change_lines(lang),
            "dry_run": self.dry_run,
            "ok": self.ok,
            "lines": self.lines(lang),
        }

    def take(self, checked: Checked) -> None:
        self.errors = checked.errors
        self.new, self.changed, self.unchanged = len(checked.new), len(checked.changed), checked.unchanged
        self.changes = [(it.row, it.id or 0, it.changes) for it in checked.changed]


_INSERT_QUESTIONS = """
INSERT INTO question (id, topic, text, explanation, active, difficulty, tags, normalized, image, created_at, updated_at)
SELECT q.id, q.topic, q.text, q.explanation, q.active, q.difficulty,
       ARRAY(SELECT jsonb_array_elements_text(q.tags::jsonb))::varchar(40)[], q.normalized, q.image, {}, {}
FROM unnest({}::int[], {}::int[], {}::text[], {}::text[], {}::bool[], {}::int[], {}::text[], {}::text[], {}::text[])
     AS q(id, topic, text, explanation, active, difficulty, tags, normalized, image)
"""
_INSERT_OPTIONS = """
INSERT INTO option (question, position, text, is_correct)
SELECT * FROM unnest({}::int[], {}::int[], {}::text[], {}::bool[])
"""


async def _write(items: list[Item], progress: Progress | None) -> None:
    now = clock.now()
    ids = await db.raw("SELECT nextval(pg_get_serial_sequence('question', 'id')) AS id FROM generate_series(1, {})", len(items))
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        qids = [r["id"] for r in ids[start : start + CHUNK]]
        await db.raw(
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
            [it.image for it in chunk],
        )
        opts = [
            (qid, pos, text, pos in it.correct)
            for qid, it in zip(qids, chunk, strict=True)
            for pos, text in enumerate(it.options)
        ]
        await db.raw(_INSERT_OPTIONS, *(list(col) for col in zip(*opts, strict=True)))
        if progress:
            progress("write", start + len(chunk), len(items))


async def _save_changes(items: list[Item], staff_id: int | None, progress: Progress | None) -> None:
    for done, item in enumerate(items, start=1):
        draft = QuestionDraft(
            item.topic,
            item.text,
            item.options,
            sorted(item.correct),
            item.explanation,
            item.difficulty,
            item.tags,
            item.active,
            item.image,
        )
        assert item.id is not None
        await save_edit(item.id, draft, staff_id, via="import", row=item.row)
        if progress and done % CHUNK == 0:
            progress("write", done, len(items))


async def import_questions(
    data: bytes,
    filename: str = "",
    *,
    dry_run: bool = True,
    progress: Progress | None = None,
    staff_id: int | None = None,
    via: str = "web",
) -> Report:
    """Check every row of a file and, unless a dry run or any row is bad, add its new questions and save its changed
    ones in one transaction."""
    report = await _import(data, filename, dry_run, progress, staff_id)
    await audit(
        staff_id,
        "questions.import.check" if dry_run else "questions.import",
        filename or "-",
        outcome="ok" if report.ok else "failed",
        via=via,
        rows=report.rows,
        imported=report.imported,
        changed=report.changed,
        unchanged=report.unchanged,
        errors=len(report.lines()),
        bytes=len(data),
    )
    return report


async def _import(data: bytes, filename: str, dry_run: bool, progress: Progress | None, staff_id: int | None) -> Report:
    report = Report(dry_run=dry_run)
    try:
        sheet = read_file(data, filename)
    except TransferError as exc:
        report.file_error = exc
        return report
    report.rows = len(sheet.rows)
    if dry_run:
        report.take(await check_rows(sheet, progress))
        return report
    async with Question._meta.db.transaction():
        # One import at a time, re-checked under the lock: two uploads of one file cannot both pass the duplicate check.
        await db.raw("SELECT pg_advisory_xact_lock(hashtext('question-import'))")
        # The questions the rows name are locked before they are compared, as the bank's edit does (see lock_for_edit).
        named = [r.cells.get("id", "") for r in sheet.rows]
        ids = [int(i) for i in named if i.isascii() and i.isdigit() and len(i) < 10]
        await db.raw("SELECT id FROM question WHERE id = ANY({}) FOR UPDATE", ids)
        checked = await check_rows(sheet, progress)
        report.take(checked)
        if report.errors:
            return report
        for item in checked.new + checked.changed:
            if item.upload is not None:
                store_image(item.upload)
        if checked.new:
            await _write(checked.new, progress)
        await _save_changes(checked.changed, staff_id, progress)
        report.imported = len(checked.new)
    return report


def file_kind(path: str | Path) -> str:
    """'csv', 'zip' or 'xlsx', from a file name the CLI was given."""
    name = str(path).lower()
    return "csv" if name.endswith(".csv") else "zip" if name.endswith(".zip") else "xlsx"
