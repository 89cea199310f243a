"""HR's two files: the roster (who works here: badge, name, department, role, plant, hire date) and the requirements
(which courses each department and/or role must hold, and how soon a newcomer must first pass). docs/hr.md.

Both are tables an HR person keeps in a spreadsheet: the roster as CSV or XLSX (what their HR system exports), the
requirements as CSV. The first row names the columns, in English or Chinese, in any order; columns Trainer does not know
are left out (an HR export has many). Every problem is reported with its file and line, all of them at once, and nothing
is stored unless the whole file is right. Pure but for reading the file: the store and the CLI do the rest.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from trainer import people
from trainer.errors import UsageError
from trainer.store.records import Requirement, RosterEntry

ROSTER_SETTING = "trainees.roster"  # "on" once a roster was imported: sign-in then takes only badges on it
DEFAULT_FIRST_DAYS = 30  # a requirement's first deadline when the file leaves it empty
MAX_FIRST_DAYS = 3650
PROBLEMS_SHOWN = 50  # a file with more problems than this is the wrong file: the rest are counted, not listed

# Column names HR may use (compared case-insensitively, spaces and underscores alike), each to its field.
ROSTER_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "badge": ("badge", "工号", "badge id", "卡号"),
    "name": ("name", "姓名"),
    "department": ("department", "部门"),
    "role": ("role", "岗位", "职位", "工种"),
    "plant": ("plant", "厂区", "工厂"),
    "hire_date": ("hire date", "入职日期", "hired"),
}
ROSTER_REQUIRED = ("badge", "name", "department")
REQUIREMENT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "course": ("course", "课程", "course id", "课程编号"),
    "department": ("department", "部门"),
    "role": ("role", "岗位", "职位", "工种"),
    "first_days": ("first deadline days", "首次期限天数", "days", "天数"),
}
REQUIREMENT_REQUIRED = ("course",)
ANY = ("", "*", "all", "全部")  # a department or role that means: any


class HRFileError(UsageError):
    """A roster or requirements file that cannot be used: every problem, one line each, `file:line: what`."""

    def __init__(self, problems: Sequence[str]):
        self.problems = tuple(problems)
        shown = list(problems[:PROBLEMS_SHOWN])
        if len(problems) > PROBLEMS_SHOWN:
            shown.append(f"... and {len(problems) - PROBLEMS_SHOWN} more problem(s); nothing was changed")
        else:
            shown[-1] += "; nothing was changed"
        super().__init__("\n".join(shown))


@dataclass(frozen=True)
class Sheet:
    """A file's table: the header's fields (column index -> field), the columns left out, and the data rows, each with
    its place (`file:line`)."""

    fields: dict[int, str]
    ignored: tuple[str, ...]
    rows: tuple[tuple[str, tuple[Any, ...]], ...]


# --- reading a table ---------------------------------------------------------------------------------------------------


def _key(text: Any) -> str:
    return re.sub(r"[\s_]+", " ", str(text or "")).strip().lower()


def _raw_rows(path: Path) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(line or row number, cells) of a CSV or XLSX file (its first sheet)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise UsageError(f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
        try:
            ws = wb.worksheets[0]
            for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
                yield number, tuple(row)
        finally:
            wb.close()
        return
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")  # Excel's "CSV" on a Chinese Windows; UTF-8 ("CSV UTF-8") is read first
        except UnicodeDecodeError:
            raise UsageError(f"{path}: neither UTF-8 nor GB18030 text; save it as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in reader:
            yield reader.line_num, tuple(cells)
    except csv.Error as exc:
        raise UsageError(f"{path}:{reader.line_num}: not CSV ({exc})") from None


def read_sheet(path: Path, columns: Mapping[str, tuple[str, ...]], required: Sequence[str]) -> Sheet:
    """The table in `path`: its header row (the first non-empty one) mapped to fields, then its non-empty rows."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    names = {_key(alias): field for field, aliases in columns.items() for alias in (field, *aliases)}
    fields: dict[int, str] | None = None
    ignored: list[str] = []
    rows: list[tuple[str, tuple[Any, ...]]] = []
    for number, cells in _raw_rows(path):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        where = f"{path}:{number}"
        if fields is None:
            fields = {}
            for i, cell in enumerate(cells):
                field = names.get(_key(cell))
                if field is None:
                    if _key(cell):
                        ignored.append(str(cell).strip())
                elif field in fields.values():
                    raise HRFileError([f"{where}: two columns are {field}: keep one"])
                else:
                    fields[i] = field
            missing = [f for f in required if f not in fields.values()]
            if missing:
                wanted = "; ".join(f"{f}: {' or '.join(columns[f])}" for f in missing)
                raise HRFileError([f"{where}: the first row must name the columns; missing {wanted}"])
            continue
        rows.append((where, cells))
    if fields is None:
        raise HRFileError([f"{path}:1: the file is empty; the first row names the columns"])
    return Sheet(fields, tuple(ignored), tuple(rows))


def _cell(cells: tuple[Any, ...], fields: Mapping[int, str]) -> dict[str, Any]:
    return {field: cells[i] if i < len(cells) else None for i, field in fields.items()}


def _text(value: Any) -> str:
    """A cell as text: a whole number an XLSX holds as 1001.0 is 1001."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: Any) -> date | None:
    """A hire date: a spreadsheet date, or YYYY-MM-DD / YYYY/M/D text; None when empty; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    found = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", text)
    if found:
        try:
            return date(*map(int, found.groups()))
        except ValueError:
            pass
    raise ValueError(f"hire date {text!r}: give it as YYYY-MM-DD, e.g. 2026-03-01")


# --- the roster ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    entries: tuple[tuple[str, RosterEntry], ...]  # (file:line, entry)
    ignored: tuple[str, ...]  # the columns left out


def read_roster(path: str | Path) -> Roster:
    """HR's roster, every row checked as sign-in checks a trainee (trainer.people); HRFileError lists every problem."""
    path = Path(path)
    sheet = read_sheet(path, ROSTER_COLUMNS, ROSTER_REQUIRED)
    problems: list[str] = []
    entries: list[tuple[str, RosterEntry]] = []
    first: dict[str, str] = {}
    for where, cells in sheet.rows:
        values = _cell(cells, sheet.fields)
        try:
            badge = people.badge(_text(values["badge"]))
            name = people.name(_text(values["name"]))
            department = people.department(_text(values["department"]))
            role = optional_text(values.get("role"), "role")
            plant = optional_text(values.get("plant"), "plant")
            hired = parse_date(values.get("hire_date"))
        except (people.TraineeFieldError, ValueError) as exc:
            problems.append(f"{where}: {exc}")
            continue
        if badge in first:
            problems.append(f"{where}: badge {badge} is listed twice (first at {first[badge]}); keep one row")
            continue
        first[badge] = where
        entries.append((where, RosterEntry(badge, name, department, role, plant, hired)))
    if problems:
        raise HRFileError(problems)
    if not entries:
        raise HRFileError([f"{path}: no trainee listed under the column names"])
    return Roster(tuple(entries), sheet.ignored)


def optional_text(value: Any, field: str) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        return people.department(text)  # the same rule: 1 to 64 printable characters
    except people.TraineeFieldError as exc:
        raise ValueError(str(exc).replace("department", field)) from None


# --- the requirements --------------------------------------------------------------------------------------------------


def read_requirements(path: str | Path, known_courses: Sequence[str] | None = None) -> list[Requirement]:
    """HR's requirements: one row per course and department and/or role. `known_courses`: the library's course ids,
    to catch a mistyped one (None: not checked). HRFileError lists every problem."""
    path = Path(path)
    sheet = read_sheet(path, REQUIREMENT_COLUMNS, REQUIREMENT_REQUIRED)
    problems: list[str] = []
    found: list[Requirement] = []
    first: dict[tuple[str, str, str], str] = {}
    for where, cells in sheet.rows:
        values = _cell(cells, sheet.fields)
        course = _text(values.get("course"))
        if not course:
            problems.append(f"{where}: the course is empty; give a course id such as press-loto-die-change")
            continue
        if known_courses is not None and course not in known_courses:
            problems.append(f"{where}: no course {course!r} in the library; check the course id")
            continue
        try:
            department = _any(values.get("department"), "department")
            role = _any(values.get("role"), "role")
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        days_text = _text(values.get("first_days"))
        days = DEFAULT_FIRST_DAYS if not days_text else (int(days_text) if days_text.isdigit() else -1)
        if not 0 <= days <= MAX_FIRST_DAYS:
            problems.append(
                f"{where}: first deadline days {days_text!r}: give a whole number from 0 to {MAX_FIRST_DAYS}"
            )
            continue
        req = Requirement(department, role, course, days)
        if req.key in first:
            problems.append(
                f"{where}: {course} for this department and role is listed twice (first at {first[req.key]})"
            )
            continue
        first[req.key] = where
        found.append(req)
    if problems:
        raise HRFileError(problems)
    return found


def _any(value: Any, field: str) -> str:
    text = _text(value)
    if text.lower() in ANY:
        return ""
    return optional_text(text, field) or ""
