"""Each commune's population, the base of participation rates: imported from an xlsx an organiser fills in from
a template of every commune. One bad row and nothing is written."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import openpyxl

from contest import xlsx
from contest.db import engine
from contest.digits import read_int
from contest.i18n import DEFAULT, N_, InputError
from contest.people.tables import Commune
from contest.text import fold
from contest.translations import translations

POPULATION_HEADER = [N_("Mã xã/phường"), N_("Tên xã/phường"), N_("Dân số")]
MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED = 50 * 1024 * 1024
# Viet Nam has about 3,300 communes (10,600 before the 2025 merger); blank rows count too.
MAX_ROWS = 20_000


@dataclass
class PopulationReport:
    rows: int = 0
    updated: int = 0
    # (row number in the sheet, message code, params)
    problems: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def cell_int(value: Any) -> int | None:
    """A whole number typed in a cell (12, 12.0, "12.345" with thousands dots), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value or "").strip().replace(".", "").replace(",", "").replace(" ", "")
    return read_int(text)


async def import_population(content: bytes) -> PopulationReport:
    """Read an xlsx (commune code or name, population) and store every population, or nothing when a row is bad."""
    report = PopulationReport()
    if len(content) > MAX_BYTES:
        raise InputError({"file": "population_file_too_big"})
    rows = sheet_rows(content, 3, MAX_ROWS, "population")
    communes = await Commune.select(Commune.code, Commune.name)
    codes = {c["code"] for c in communes}
    by_name: dict[str, list[int]] = {}
    for c in communes:
        by_name.setdefault(fold(c["name"]), []).append(c["code"])
    updates: dict[int, int] = {}
    seen: dict[int, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        cells = [*(row or ()), None, None, None][:3]
        if all(v is None or str(v).strip() == "" for v in cells):
            continue
        report.rows += 1
        code_cell, name_cell, population_cell = cells
        formula = next((v for v in cells if isinstance(v, str) and v.startswith("=")), None)
        # Formulas are never evaluated, and their cached values may be missing or stale: only typed values count.
        if formula is not None:
            report.problems.append((number, "population_formula", {"value": formula[:40]}))
            continue
        code = cell_int(code_cell) if code_cell not in (None, "") else None
        name = str(name_cell or "").strip()
        if code is None and code_cell not in (None, ""):
            report.problems.append((number, "population_code_invalid", {"value": code_cell}))
            continue
        if code is not None and code not in codes:
            report.problems.append((number, "population_commune_unknown", {"value": code}))
            continue
        if code is None:
            if not name:
                report.problems.append((number, "population_commune_missing", {}))
                continue
            found = by_name.get(fold(name), [])
            if not found:
                report.problems.append((number, "population_commune_unknown", {"value": name}))
                continue
            if len(found) > 1:
                report.problems.append((number, "population_name_ambiguous", {"value": name}))
                continue
            code = found[0]
        population = cell_int(population_cell)
        if population is None or population <= 0 or population > 10_000_000:
            report.problems.append(
                (number, "population_value_invalid", {"value": population_cell if population_cell is not None else ""})
            )
            continue
        if code in seen:
            report.problems.append((number, "population_duplicate", {"value": code, "first": seen[code]}))
            continue
        seen[code] = number
        updates[code] = population
    if report.rows == 0:
        report.problems.append((1, "population_file_empty", {}))
    if report.problems:
        return report
    async with engine().transaction():
        for code, population in updates.items():
            await Commune.update({Commune.population: population}).where(Commune.code == code)
    report.updated = len(updates)
    return report


def sheet_rows(content: bytes, columns: int, max_rows: int, kind: str) -> list[tuple[Any, ...]]:
    """The first sheet's rows (the first `columns` columns), from an xlsx checked before openpyxl parses it;
    InputError if unreadable (`kind`: the messages' prefix, "population" or "units")."""
    try:
        xlsx.inspect_upload(content, MAX_UNPACKED)
    except xlsx.UnsafeWorkbook as exc:
        code = f"{kind}_file_unreadable" if exc.code == "xlsx_not_workbook" else exc.code
        raise InputError({"file": code}, **exc.params) from exc
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds on a file that is not xlsx
        raise InputError({"file": f"{kind}_file_unreadable"}) from exc
    rows: list[tuple[Any, ...]] = []
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # its own <dimension> may claim a million rows by 16,384 columns
        for row in sheet.iter_rows(values_only=True, max_col=columns):
            rows.append(row)
            if len(rows) > max_rows:
                raise InputError({"file": f"{kind}_too_many_rows"}, max=f"{max_rows:,}".replace(",", "."))
    except InputError:
        raise
    except Exception as exc:  # and more kinds while reading a damaged sheet
        raise InputError({"file": f"{kind}_file_unreadable"}) from exc
    finally:
        book.close()
    return rows


async def population_template(lang: str = DEFAULT) -> bytes:
    """An xlsx to fill in: every commune with its code, name and the population known now (headers in `lang`)."""
    rows = await Commune.select(Commune.code, Commune.name, Commune.population).order_by(Commune.province).order_by(Commune.code)
    values = ([r["code"], r["name"], r["population"]] for r in rows)
    t = translations(lang)
    return xlsx.workbook(t.gettext("Dân số"), [t.gettext(h) for h in POPULATION_HEADER], values, widths=(14, 36, 12))
