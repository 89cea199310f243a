"""Running a course: session state, conditions, timers, seeded random events, events out. Pure: no textual, no database."""
