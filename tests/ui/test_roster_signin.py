"""Sign-in once HR imported a roster (docs/hr.md): a badge on it signs in at once with the roster's name and
department; a badge not on it is refused with a word to see the instructor, and nobody types a department.

Before: any unknown badge was asked for a name and a department, typed free by the trainee, whatever HR's roster said.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from screen import make_app, screen_text, settled, shows

from trainer import hr
from trainer.store.records import RosterEntry

SAID = {
    "zh": {"welcome": "欢迎，张伟（冲压车间）", "refused": "工号 E9 不在人员名册上。请联系培训老师或人事部门。"},
    "en": {
        "welcome": "Welcome, 张伟 (冲压车间)",
        "refused": "Badge E9 is not on the roster. Please see your instructor or HR.",
    },
}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_roster_badges_sign_in_at_once_and_others_are_refused(tmp_path: Path, lang: str) -> None:
    app = make_app(tmp_path / "t.db", lang=lang)
    app.store.import_trainees([("r.csv:2", RosterEntry("E1", "张伟", "冲压车间", "操作工", "一厂"))])
    app.store.set_setting(hr.ROSTER_SETTING, "on")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("E", "9", "enter")
        seen = " ".join((await shows(pilot, SAID[lang]["refused"][:8])).replace("│", " ").split())
        assert SAID[lang]["refused"] in seen
        assert not app.screen.query("#name") and not app.screen.query("#department")
        assert app.store.get_trainee("E9") is None
        for _ in range(2):
            await pilot.press("backspace")
        await pilot.press("E", "1", "enter")
        await shows(pilot, SAID[lang]["welcome"])
        assert app.trainee.department == "冲压车间"
    app.store.close()


async def test_without_a_roster_a_new_badge_still_registers(tmp_path: Path) -> None:
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("E", "9", "enter")
        await settled(pilot)
        assert app.screen.query("#department"), screen_text(app)
    app.store.close()
