"""`contest questions import | export | template`: the question bank as xlsx/CSV."""

from __future__ import annotations

import asyncio
import sys

from contest.commands.operator import _, language, piccolo_env


def questions(action: str, path: str, dry_run: bool = False, topic: str | None = None) -> None:
    """Import, export or write the blank template of the question bank (xlsx or UTF-8 CSV, by the file name)."""
    from pathlib import Path

    piccolo_env()
    from contest.questions import export, transfer

    file = Path(path)
    if action == "template":
        file.write_bytes(export.template_file())
        print(f"template written to {file}")
        return
    if action == "export":
        file.write_bytes(asyncio.run(export.export_file(transfer.file_kind(file), topic, via="cli")))
        print(f"exported to {file}")
        return
    if not file.is_file():
        raise SystemExit(f"{file}: no such file")
    shown = {"last": 0}

    def progress(phase: str, done: int, total: int) -> None:
        # Big files only: one line, rewritten every thousand rows.
        if total >= 1000:
            text = _("kiểm tra: %(done)s/%(total)s dòng") if phase == "read" else _("ghi: %(done)s/%(total)s dòng")
            print("\r" + text % {"done": f"{done:>6,}", "total": f"{total:,}"}, end="", file=sys.stderr, flush=True)
            shown["last"] = done

    report = asyncio.run(transfer.import_questions(file.read_bytes(), file.name, dry_run=dry_run, progress=progress, via="cli"))
    if shown["last"]:
        print(file=sys.stderr)
    if not report.ok:
        lines = report.lines(language())
        raise SystemExit("\n".join([*lines, _("%(count)s lỗi, không câu hỏi nào được nhập.") % {"count": len(lines)}]))
    for line in report.change_lines(language()):
        print(line)
    counts = {"new": report.new, "changed": report.changed, "unchanged": report.unchanged}
    if dry_run:
        print(
            _("%(count)s câu hỏi hợp lệ (chạy thử, chưa nhập): %(new)s mới, %(changed)s sửa, %(unchanged)s không đổi.")
            % {"count": report.rows, **counts}
        )
    else:
        print(
            _("đã nhập %(count)s câu hỏi mới, sửa %(changed)s câu hỏi (%(new)s mới, %(changed)s sửa, %(unchanged)s không đổi).")
            % {"count": report.imported, **counts}
        )
