"""Benchmarks: plain scripts, run as `python bench/NAME.py`; not part of the test suite."""
