from pathlib import Path

from trainer.course.loader import check_path, load_course

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "mini_course.yaml"


def test_mini_course_loads_without_warnings():
    result = check_path(MINI)
    assert result.diagnostics == ()
    course = result.course
    assert course is not None
    assert course.start == "begin"
    assert course.variables["power"] == "on"  # `on` stays text, it is not YAML 1.1's true
    lock = course.states["begin"].action("lock")
    assert lock is not None and dict(lock.set) == {"locked": True, "power": "off"}
    assert lock.when({"power": "on", "locked": False})
    assert not lock.when({"power": "on", "locked": True})


def test_load_course_raises_with_position(write):
    text = MINI.read_text(encoding="utf-8").replace("goto: done", "goto: dnoe")
    path = write(text)
    try:
        load_course(path)
    except Exception as exc:  # noqa: BLE001 - the message is what we check
        assert f"{path}:25:15: error: goto 'dnoe'" in str(exc)
    else:
        raise AssertionError("a goto to an unknown state must not load")
