"""The one error hierarchy. Every message is a sentence a user can act on; the CLI prints it on one line."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    INVALID_COURSE = 3


class TrainerError(Exception):
    """Base of every error a user can cause and fix. The CLI prints `str(err)` and exits with `exit_code`."""

    exit_code: ExitCode = ExitCode.ERROR


class UsageError(TrainerError):
    exit_code = ExitCode.USAGE


class CourseError(TrainerError):
    """A course file could not be read or is not a valid course."""

    exit_code = ExitCode.INVALID_COURSE
