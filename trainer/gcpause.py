"""Bulk commands (`trainer score --all`, `trainer export scores`) pause Python's cyclic garbage collector while they work."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside: the hundreds of thousands of records, events, mistakes and rows a bulk
    command makes hold no cycles, and the collector's passes over them (and over everything loaded) cost much of the
    time (the measures: docs/performance.md, "Figures behind the code").
    Whatever is cyclic is collected once it runs again; free the objects made before leaving, or that first pass walks
    them all. Nested pauses are fine: only the outermost one turns the collector back on."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
