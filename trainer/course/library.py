"""Where courses are found: the bundled folder, then instructors' folders (--courses, TRAINER_COURSES)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from trainer.course.loader import CheckResult, check_path
from trainer.course.model import Course
from trainer.errors import UsageError

ENV_VAR = "TRAINER_COURSES"
_PACKAGE = Path(__file__).resolve().parent.parent


def bundled_dir() -> Path:
    """The courses shipped with Trainer: inside the installed wheel, or the checkout's top-level courses/ folder."""
    installed = _PACKAGE / "_courses"
    return installed if installed.is_dir() else _PACKAGE.parent / "courses"


def course_dirs(extra: Iterable[str | Path] = ()) -> list[Path]:
    """Bundled folder first, then TRAINER_COURSES (os.pathsep-separated), then --courses; later ones win on equal ids."""
    dirs = [bundled_dir()]
    dirs += [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p]
    dirs += [Path(p) for p in extra]
    return dirs


def course_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their *.yaml / *.yml files, sorted; files are kept as given."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
        else:
            out.append(p)
    return out


@dataclass(frozen=True)
class Library:
    """The courses a session can play, and the files that could not be loaded (shown, never fatal)."""

    courses: dict[str, Course]
    problems: tuple[CheckResult, ...]

    def get(self, course_id: str) -> Course | None:
        return self.courses.get(course_id)


def load_library(extra: Iterable[str | Path] = ()) -> Library:
    courses: dict[str, Course] = {}
    problems: list[CheckResult] = []
    for d in course_dirs(extra):
        if not d.exists():
            continue
        for f in course_files([d]):
            result = check_path(f)
            if result.course is None:
                problems.append(result)
            else:
                courses[result.course.id] = result.course
    return Library(dict(sorted(courses.items())), tuple(problems))


def resolve_course(ref: str, extra: Iterable[str | Path] = ()) -> Path:
    """A course argument is a file path, or the id of a course in the library folders."""
    p = Path(ref)
    if p.exists() or ref.endswith((".yaml", ".yml")):
        return p
    for d in reversed(course_dirs(extra)):
        for suffix in (".yaml", ".yml"):
            candidate = d / f"{ref}{suffix}"
            if candidate.exists():
                return candidate
    for f in course_files([d for d in course_dirs(extra) if d.exists()]):
        result = check_path(f)
        if result.course is not None and result.course.id == ref:
            return f
    raise UsageError(
        f"no course {ref!r}: give a course file or the id of a course in {', '.join(map(str, course_dirs(extra)))}"
    )
