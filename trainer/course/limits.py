"""The bounds of what a course and a play script may ask for, in one place.

A value beyond these is a typo or an attack, never a training need, and each of them used to cost something real: a timer
of 1e308 s overflowed when turned into milliseconds, a script delay of 300 digits over a timer that restarts its own state
ran for minutes and gigabytes, a 50 MB script line was echoed whole in the error. The course checker (spec.py), the
engine and `trainer play`'s script reader all read these; docs/course-format.md and docs/operations.md state them.
"""

from __future__ import annotations

DAY_SECONDS = 24 * 60 * 60

# --- courses (checked by `trainer course check` and by every load, with file:line:col) ----------------------------------
COURSE_MAX_BYTES = 5 * 1024 * 1024
COURSE_MAX_NODES = 200_000  # after alias expansion: stops "billion laughs" long before memory does
COURSE_MAX_DEPTH = 64
CONDITION_MAX_CHARS = 500
TIMER_MIN_SECONDS = 1
TIMER_MAX_SECONDS = DAY_SECONDS  # a training scene never waits a day
# Larger whole numbers are typos, and would not survive conversion to float (numbers in variables and `set` too).
MAX_INT = 10**15

# What the player really fits on an 80x24 terminal (measured with tui-look; docs/course-format.md states them). Over
# these `course check` warns: the text still works, but is cut or wrapped for the trainee.
LABEL_MAX_CELLS = 71  # a choice on one line: 80 - frame, padding, "1. " and the list's scrollbar (CJK: 2 cells each)
MAP_MAX_WIDTH = 76  # inside the map panel's frame and padding at 80 columns
MAP_MAX_HEIGHT = 16  # shown whole beside the scene (36 rows and more) with a full list of choices

# --- the engine -------------------------------------------------------------------------------------------------------
# Timers that lead back round (a state whose timer enters itself, or a ring of such states) would fire for as long as
# nobody acts: a day's wait over a 1 s timer is 86,400 timeouts stored in one go. After this many timeouts in a row with
# no trainee input the timer stops; the next action, hint or resume starts it again. The rule depends only on the
# recorded inputs, so a replay gives the same events.
MAX_TIMEOUTS_IN_A_ROW = 1000

# --- play scripts (`trainer play --script FILE`) ------------------------------------------------------------------------
SCRIPT_MAX_BYTES = 1024 * 1024
SCRIPT_MAX_LINE_CHARS = 1000
SCRIPT_MAX_DELAY_SECONDS = DAY_SECONDS
QUOTE_CHARS = 40  # an error quotes at most this much of the offending text


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` as repr, cut to `limit` characters with '…', so an error about a huge input stays one short line."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
