"""Mistake detection and scoring against the course. Pure: no textual, no sqlalchemy."""
