"""Problems found in a course file, each pointing at file:line:column."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from trainer.errors import CourseError


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Pos:
    """1-based line and column of a node in its file."""

    line: int = 0
    col: int = 0


@dataclass(frozen=True)
class Diagnostic:
    file: str
    pos: Pos
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.pos.line}:{self.pos.col}: {self.severity}: {self.message}"


class CourseInvalid(CourseError):
    """A course has errors. Carries every diagnostic; its message is the first error, so one line still says where."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity is Severity.ERROR]
        first = errors[0] if errors else diagnostics[0]
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        super().__init__(f"{first}{more}")
