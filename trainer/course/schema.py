"""JSON Schema of the course format, generated from the same declarations the loader checks against."""

from __future__ import annotations

import json
from typing import Any

from trainer.course.spec import COURSE

SCHEMA_ID = "https://trainer.zhixin.example/schema/course-1.json"


def course_schema() -> dict[str, Any]:
    schema = COURSE.schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Trainer course",
        **schema,
    }


def course_schema_json() -> str:
    return json.dumps(course_schema(), indent=2, ensure_ascii=False)
