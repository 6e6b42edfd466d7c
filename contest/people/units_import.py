"""A contest's units imported from an xlsx (code, name, code of the unit it is part of, headcount): every row is
checked first, one bad row and nothing is written. A row whose code is already a unit of the contest updates it; units
missing from the file stay (contestants may belong to them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contest import xlsx
from contest.db import engine
from contest.i18n import DEFAULT, N_, InputError
from contest.leaderboard.population import MAX_BYTES, cell_int, sheet_rows
from contest.people.tables import Unit
from contest.people.units import units_of
from contest.text import composed
from contest.translations import translations

UNITS_HEADER = [N_("Mã đơn vị"), N_("Tên đơn vị"), N_("Mã đơn vị cấp trên"), N_("Số người")]
MAX_UNITS = 5_000
MAX_HEADCOUNT = 10_000_000


@dataclass
class UnitsReport:
    rows: int = 0
    added: int = 0
    updated: int = 0
    # (row number in the sheet, message code, params)
    problems: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _text(value: Any) -> str:
    return composed(str(value)).strip() if value is not None else ""


async def import_units(contest_id: int, content: bytes) -> UnitsReport:
    """Read an xlsx of units and store them all, or nothing when a row is bad."""
    if len(content) > MAX_BYTES:
        raise InputError({"file": "units_file_too_big"})
    rows = sheet_rows(content, 4, MAX_UNITS * 2, "units")
    report = UnitsReport()
    wanted: dict[str, dict[str, Any]] = {}  # code -> name, parent code, headcount, row, position
    for number, row in enumerate(rows[1:], start=2):
        cells = [*(row or ()), None, None, None, None][:4]
        if all(v is None or str(v).strip() == "" for v in cells):
            continue
        report.rows += 1
        formula = next((v for v in cells if isinstance(v, str) and v.startswith("=")), None)
        if formula is not None:
            report.problems.append((number, "units_formula", {"value": formula[:40]}))
            continue
        code, name, parent = _text(cells[0]), _text(cells[1]), _text(cells[2])
        if isinstance(cells[0], float) and cells[0].is_integer():
            code = str(int(cells[0]))  # Excel keeps a typed 12 as 12.0
        if isinstance(cells[2], float) and cells[2].is_integer():
            parent = str(int(cells[2]))
        if not code:
            report.problems.append((number, "units_code_missing", {}))
        elif len(code) > 40:
            report.problems.append((number, "units_code_too_long", {"value": code[:40]}))
        elif code in wanted:
            report.problems.append((number, "units_duplicate", {"value": code, "first": wanted[code]["row"]}))
        if not name:
            report.problems.append((number, "units_name_missing", {}))
        elif len(name) > 200:
            report.problems.append((number, "units_name_too_long", {}))
        headcount = None
        if cells[3] not in (None, ""):
            headcount = cell_int(cells[3])
            if headcount is None or not 0 < headcount <= MAX_HEADCOUNT:
                report.problems.append((number, "units_headcount_invalid", {"value": cells[3]}))
        if code and code not in wanted:
            wanted[code] = {"name": name, "parent": parent, "headcount": headcount, "row": number, "position": len(wanted)}
    if report.rows == 0:
        report.problems.append((1, "units_file_empty", {}))
    if len(wanted) > MAX_UNITS:
        report.problems.append((1, "units_too_many", {"max": MAX_UNITS}))
    existing = {u["code"]: u for u in await units_of(contest_id)}
    for code, unit in wanted.items():
        parent = unit["parent"]
        if not parent:
            continue
        if parent == code:
            report.problems.append((unit["row"], "units_parent_self", {"value": code}))
        elif parent not in wanted and parent not in existing:
            report.problems.append((unit["row"], "units_parent_unknown", {"value": parent}))
        elif _cycle(code, wanted, existing):
            report.problems.append((unit["row"], "units_parent_cycle", {"value": parent}))
    if report.problems:
        report.problems.sort(key=lambda p: p[0])
        return report
    await _write(contest_id, wanted, existing, report)
    return report


def _parent_of(code: str, wanted: dict[str, dict[str, Any]], existing: dict[str, dict]) -> str | None:
    if code in wanted:
        return wanted[code]["parent"] or None
    unit = existing.get(code)
    if unit is None or unit["parent"] is None:
        return None
    return next((c for c, u in existing.items() if u["id"] == unit["parent"]), None)


def _cycle(code: str, wanted: dict[str, dict[str, Any]], existing: dict[str, dict]) -> bool:
    """Whether following the "part of" chain from this unit comes back to it."""
    seen = {code}
    current = _parent_of(code, wanted, existing)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = _parent_of(current, wanted, existing)
    return False


async def _write(contest_id: int, wanted: dict[str, dict[str, Any]], existing: dict[str, dict], report: UnitsReport) -> None:
    """Every unit in one transaction: rows first, then who is part of whom (a parent may come later in the file)."""
    async with engine().transaction():
        ids = {code: u["id"] for code, u in existing.items()}
        for code, unit in wanted.items():
            values: dict[Any, Any] = {Unit.name: unit["name"], Unit.headcount: unit["headcount"], Unit.position: unit["position"]}
            if code in ids:
                await Unit.update(values).where(Unit.id == ids[code])
                report.updated += 1
            else:
                rows = await Unit.insert(
                    Unit(contest=contest_id, code=code, name=unit["name"], headcount=unit["headcount"], position=unit["position"])
                ).returning(Unit.id)
                ids[code] = rows[0]["id"]
                report.added += 1
        for code, unit in wanted.items():
            parent = ids.get(unit["parent"]) if unit["parent"] else None
            await Unit.update({Unit.parent: parent}).where(Unit.id == ids[code])


async def units_template(contest_id: int, lang: str = DEFAULT) -> bytes:
    """An xlsx to fill in: the contest's units as they are now (headers in `lang`)."""
    rows = await units_of(contest_id)
    by_id = {u["id"]: u["code"] for u in rows}
    values = ([u["code"], u["name"], by_id.get(u["parent"]), u["headcount"]] for u in rows)
    t = translations(lang)
    return xlsx.workbook(t.gettext("Đơn vị"), [t.gettext(h) for h in UNITS_HEADER], values, widths=(16, 40, 20, 12))
