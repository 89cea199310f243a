"""The course model: YAML with positions -> frozen dataclasses -> validation. Pure: no textual, no sqlalchemy."""
