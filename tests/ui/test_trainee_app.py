"""The trainee's app at 80x24, driven through the keyboard, asserting on what the screen shows."""

from __future__ import annotations

import sqlite3

import pytest
from screen import (
    ROOT,
    burst,
    choose,
    confirm_name,
    make_app,
    offered,
    open_course,
    screen_text,
    settled,
    shows,
    sign_in,
    wait_for_actions,
)
from textual import events
from textual.widgets import Input

from trainer.cli.play import parse_script

PRESS = "press-loto"
EXPERT = [line.action for line in parse_script(ROOT / "tests" / "fixtures" / "press-loto-die-change.expert.txt")]


async def play_expert(pilot, steps=EXPERT):
    for step in steps:
        if "stop_coworker" in offered(pilot):  # the seeded co-worker event: the expert answers it at once
            await choose(pilot, "stop_coworker")
        await choose(pilot, step)


async def test_first_sign_in_asks_name_and_department_once(tmp_path):
    db = tmp_path / "t.db"
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"E1001", "enter")
        await pilot.pause()
        assert "第一次使用" in screen_text(app)
        await pilot.press(*"王芳", "enter", *"冲压车间", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "欢迎，王芳（冲压车间）" in text
        assert "800吨冲压机换模" in text and "未取得" in text
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E1001")
        assert "欢迎，王芳（冲压车间）" in screen_text(app)  # known badge: no questions the second time


async def test_sign_in_shows_its_keys_and_f2_switches_everything_on_it(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        text = screen_text(app)
        assert "Zhixin Safety Training" in text and "Scan your badge" in text and "Badge number" in text
        keys = text.splitlines()[-1]  # the bottom line, as a footer shows them
        assert "enter Continue" in keys and "^q Quit" in keys and "f2 中/EN" in keys and "palette" not in keys
        await pilot.press("enter")
        await pilot.pause()
        assert "Please enter your badge number." in screen_text(app)
        await pilot.press("f2")
        await pilot.pause()
        text = screen_text(app)
        assert "至信安全实训" in text and "请刷卡或输入工号" in text and "工号" in text and "请输入工号。" in text
        assert "enter 确定" in text.splitlines()[-1] and "^q 退出" in text.splitlines()[-1]
        await pilot.press(*"E1001", "enter")  # typed straight away: the badge field still has the focus
        await pilot.pause()
        assert "第一次使用" in screen_text(app) and "请输入工号。" not in screen_text(app)


async def test_sign_in_refuses_a_badge_or_name_a_terminal_would_act_on_and_says_what_is_allowed(tmp_path):
    db = tmp_path / "t.db"
    app = make_app(db, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"B 7", "enter")
        await pilot.pause()
        assert "A badge number is letters, digits and - _ . / only" in screen_text(app)
        assert "First time here" not in screen_text(app)
        await pilot.press("f2")
        await settled(pilot)
        assert "工号只能由字母、数字和" in screen_text(app)
        for _ in range(3):
            await pilot.press("backspace")
        await pilot.press(*"B7", "enter")
        await pilot.pause()
        await settled(pilot)
        app.focused.post_message(events.Paste("王芳\u202e"))  # pasted: no key types a bidi override
        await pilot.pause()
        await pilot.press("enter", *"冲压", "enter")
        await settled(pilot)
        assert "姓名最多64个字符，不能含控制字符。" in screen_text(app)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM trainees").fetchone() == (0,)


async def test_expert_path_to_a_pass_and_the_catalog_shows_the_certification(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E2", "Li Lei", "Stamping")
        await open_course(pilot, PRESS, start="e")  # the exam: a practice pass certifies nothing
        assert "What do you do now?" in screen_text(app)
        await play_expert(pilot)
        await settled(pilot)
        text = screen_text(app)
        assert "Score 100" in text and "PASSED" in text
        assert "No deductions" in text
        await pilot.press("escape")
        await settled(pilot)
        catalog = screen_text(app)
        assert "100 passed" in catalog and "valid until" in catalog


async def test_each_action_is_committed_before_the_screen_acknowledges_it(tmp_path):
    db = tmp_path / "t.db"
    app = make_app(db, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E3", "Zhang", "Welding")
        await open_course(pilot, PRESS)
        await choose(pilot, "review_energy")
        shown = screen_text(app)
        with sqlite3.connect(db) as conn:
            actions = [row[0] for row in conn.execute("SELECT action FROM events WHERE kind = 'chose'")]
        assert actions == ["review_energy"]
        assert "The card lists the main disconnect" in shown  # its feedback is on screen


async def test_a_critical_mistake_shows_the_incident_and_fails(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E4", "Wang", "Stamping")
        await open_course(pilot, PRESS)
        for step in ["notify_affected", "normal_stop", "isolate_electrical", "to_press_electrical_only"]:
            await choose(pilot, step)
        await settled(pilot)
        text = screen_text(app)
        # No severity during play (it is graded at the end, and could differ): the rule, marked provisional.
        assert "Incident" in text and "graded at the end" in text and "critical" not in text
        assert "The session ends as failed" in text
        await pilot.press("enter")
        await settled(pilot)
        debrief = screen_text(app)
        assert "FAILED" in debrief and "Isolate every energy source" in debrief and "critical" in debrief


async def test_pause_then_abandon_after_confirming(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E5", "Zhao", "Paint")
        await open_course(pilot, PRESS)
        await pilot.press("escape")
        await pilot.pause()
        assert "Paused" in screen_text(app)
        await pilot.press("escape")  # Esc resumes
        await pilot.pause()
        assert "What do you do now?" in screen_text(app)
        await pilot.press("escape", "down", "enter")  # Abandon this session
        await pilot.pause()
        assert "Abandon? The record is kept" in screen_text(app)
        await pilot.press("up", "enter")  # Yes, abandon
        await settled(pilot)
        assert "FAILED" in screen_text(app)
        assert app.store.sessions(badge="E5")[0].status == "aborted"


async def quit_mid_session(db, badge: str, name: str, steps: list[str]):
    """A new trainee plays `steps` of the press course and quits with Ctrl+Q; returns the app (its store stays usable)."""
    app = make_app(db, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, badge, name, "Stamping")
        await open_course(pilot, PRESS)
        for step in steps:
            await choose(pilot, step)
        await pilot.press("ctrl+q")
        await pilot.pause()
    return app


async def test_quit_mid_session_then_resume_after_restarting(tmp_path):
    db = tmp_path / "t.db"
    await quit_mid_session(db, "E6", "Qian", EXPERT[:5])
    app = make_app(db, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E6")
        await confirm_name(pilot, "Qian")  # the name registered for the badge, before its unfinished sessions
        assert "You have an unfinished session" in screen_text(app)
        await pilot.press("enter")
        await wait_for_actions(pilot)
        # Exactly where it stopped: electrical and hydraulic isolated, air not yet.
        assert "isolate_air" in offered(pilot) and "isolate_electrical" not in offered(pilot)
        await play_expert(pilot, EXPERT[5:])
        await settled(pilot)
        assert "PASSED" in screen_text(app)
    records = app.store.sessions(badge="E6")
    assert len(records) == 1 and records[0].status == "completed"
    assert app.store.verify(records[0].id) == []


async def test_a_tampered_session_is_not_resumed_and_is_released_for_the_instructor(tmp_path):
    db = tmp_path / "t.db"
    app = await quit_mid_session(db, "E16", "Wei", EXPERT[:3])
    sid = app.store.sessions(badge="E16")[0].id
    with sqlite3.connect(db) as conn:  # someone edits the record: the first action now claims to lead elsewhere
        (seq,) = conn.execute("SELECT MIN(seq) FROM events WHERE session_id = ? AND kind = 'chose'", (sid,)).fetchone()
        conn.execute("UPDATE events SET data = '{}' WHERE session_id = ? AND seq = ?", (sid, seq))
    app = make_app(db, lang="en")
    async with app.run_test(size=(120, 24)) as pilot:
        await sign_in(pilot, "E16")
        await confirm_name(pilot, "Wei")
        await pilot.press("enter")  # resume it
        await settled(pilot)
        text = " ".join(screen_text(app).split())
        assert f"This session cannot be resumed: session {sid[:8]}: event {seq}: replay differs" in text, text
        assert "Ask an instructor to void it" in text
        # Released at once: an instructor can void it now, without waiting for this terminal to close.
        app.store.void(sid, "edited record", by="instructor")
        assert app.store.sessions(badge="E16")[0].status == "voided"


async def test_switching_language_mid_course_keeps_the_place(tmp_path):
    app = make_app(tmp_path / "t.db", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E7", "孙", "冲压")
        await open_course(pilot, PRESS)
        await choose(pilot, "review_energy")
        assert "你现在要做什么？" in screen_text(app)
        before = offered(pilot)
        await pilot.press("f2")
        await pilot.pause()
        text = screen_text(app)
        assert "What do you do now?" in text and "Pause" in text
        assert offered(pilot) == before
        assert len(app.store.events(app.screen.durable.id)) == len(app.screen.durable.stored)


async def test_the_timer_counts_down_and_hesitation_costs(tmp_path):
    from screen import Clock

    clock = Clock()
    app = make_app(tmp_path / "t.db", lang="en", clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E8", "Zhou", "Stamping")
        await open_course(pilot, PRESS)
        await play_expert(pilot, EXPERT[: EXPERT.index("stop_entry")])
        await settled(pilot)
        assert "s left" in screen_text(app)
        clock.advance(11_000)
        await settled(pilot, still=0.3)
        text = screen_text(app)
        assert "Time is up" in text and "graded at the end" in text and "serious" not in text


async def test_a_failed_save_keeps_the_place_and_r_retries(tmp_path, monkeypatch):
    from trainer.store.errors import StoreError

    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E9", "Feng", "Stamping")
        await open_course(pilot, PRESS)
        real_append = app.store.append

        def disk_full(session_id, events, **kwargs):  # kwargs: the score an ending is stored with
            raise StoreError("t.db: cannot save: database or disk is full")

        monkeypatch.setattr(app.store, "append", disk_full)
        await choose(pilot, "review_energy")
        text = screen_text(app)
        assert "Could not save" in text and "disk is full" in text and "press R to retry" in text
        assert "review_energy" in offered(pilot)  # not taken: the trainee is where they were
        monkeypatch.setattr(app.store, "append", real_append)
        await pilot.press("r")
        await settled(pilot)
        assert "review_energy" not in offered(pilot)
        assert "The card lists the main disconnect" in screen_text(app)
        stored = [s.event.action for s in app.store.events(app.screen.durable.id) if s.event.action]
        assert stored == ["review_energy"]


async def test_ctrl_p_opens_no_english_command_palette_and_f2_switches_language(tmp_path):
    """Textual's palette offered a trainee Theme, Screenshot, Keys and Quit in English; every command of ours has a key."""
    app = make_app(tmp_path / "t.db", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        theme = app.theme
        await pilot.press("ctrl+p")
        await settled(pilot)
        text = screen_text(app)
        assert "Screenshot" not in text and "Theme" not in text and "palette" not in text
        assert app.theme == theme and type(app.screen).__name__ == "SignInScreen"
        await sign_in(pilot, "E11", "Ma", "Stamping")
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert type(app.screen).__name__ == "CatalogScreen" and "palette" not in screen_text(app)
        await pilot.press("f2")
        await settled(pilot)
        assert "Choose a course" in screen_text(app)


async def test_h_shows_the_hint_after_saving_that_it_was_asked(tmp_path):
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E10", "Ma", "Stamping")
        await open_course(pilot, PRESS)
        await pilot.press("h")
        await settled(pilot)
        assert "Know every energy source first" in screen_text(app)
        kinds = [s.event.kind for s in app.store.events(app.screen.durable.id)]
        assert kinds[-1] == "hint"
        assert "review_energy" in offered(pilot)  # nothing else changed


async def test_sign_in_fields_take_tab_shift_tab_and_keys_typed_ahead(tmp_path):
    """In tmux, keys arrive in one burst: each key must land in the field the key before it moved to."""
    app = make_app(tmp_path / "t.db", lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, *"E1", "enter", *"Li Wei", "tab", *"Stamping")
        fields = {box.id: box.value for box in app.screen.query(Input)}
        assert fields == {"badge": "E1", "name": "Li Wei", "department": "Stamping"}
        await burst(pilot, "shift+tab", "shift+tab", "tab")
        assert app.focused.id == "name"  # Shift+Tab went back to the badge and Tab forward again
        await burst(pilot, "tab", "enter")
        await shows(pilot, "Welcome, Li Wei (Stamping)")
    app = make_app(tmp_path / "u.db", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await burst(pilot, *"E2", "enter", "王", "enter", *"冲压", "enter")
        await shows(pilot, "欢迎，王（冲压）")
    app = make_app(tmp_path / "v.db", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:  # Tab after the badge goes on to the name, as Enter does
        await burst(pilot, *"E3", "tab", "王", "tab", *"冲压", "enter")
        await shows(pilot, "欢迎，王（冲压）")


@pytest.mark.parametrize(
    ("lang", "more", "rule"), [("zh", "▼ 下面还有", "得分不低于"), ("en", "▼ more below", "A score of at least")]
)
async def test_the_briefing_scrolls_by_keyboard_and_says_there_is_more(tmp_path, lang, more, rule):
    app = make_app(tmp_path / "t.db", lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E12", "Ma", "Stamping")
        await pilot.press(*PRESS, "enter")
        assert rule not in await shows(pilot, more)  # the pass rule is below the fold, and the screen says so
        await pilot.press("end")
        await settled(pilot)
        assert rule in screen_text(app) and more not in screen_text(app)
        await pilot.press("home")
        await settled(pilot)
        assert rule not in screen_text(app)
        await pilot.press("pagedown", "pagedown", "pagedown")
        await settled(pilot)
        assert rule in screen_text(app)
        await pilot.press("enter")  # Enter still starts, whatever has been read
        await wait_for_actions(pilot)
        assert type(app.screen).__name__ == "PlayerScreen"


async def test_the_debrief_scrolls_and_its_replay_comes_into_view_on_left_and_right(tmp_path):
    app = make_app(tmp_path / "t.db", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E13", "Ma", "Stamping")
        await open_course(pilot, PRESS)
        await play_expert(pilot, [s for s in EXPERT if s != "notify_affected"])
        text = await shows(pilot, "扣分明细")
        total = len(app.screen.frames)
        assert "▼ 下面还有" in text and f"回放 {total}/{total}" not in text  # the replay is below the fold
        await pilot.press("left")
        await settled(pilot)
        assert f"回放 {total - 1}/{total}" in screen_text(app)  # the step is seen, not below the fold
        assert "← ◀ 回放" in screen_text(app).splitlines()[-1]  # and the keys stay in the footer
        await pilot.press("home")
        await settled(pilot)
        assert "扣分明细" in screen_text(app)
        await pilot.press("end")
        await settled(pilot)
        assert f"回放 {total - 1}/{total}" in screen_text(app)


@pytest.mark.parametrize(
    ("lang", "title", "failed", "source"),
    [
        ("zh", "800吨冲压机换模：上锁挂牌与安全垫块", "分 不合格", "凭 "),
        ("en", "800 t press die change:", "failed", "from the pass on "),
    ],
)
async def test_the_catalog_lays_out_by_content_and_says_where_a_certificate_comes_from(
    tmp_path, lang, title, failed, source
):
    app = make_app(tmp_path / "t.db", lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E14", "Li Lei", "Stamping")
        assert title in await shows(pilot, title)  # on one line: the short columns leave it room
        await open_course(pilot, PRESS, start="e")  # the exam (and its retry, below): they certify
        await play_expert(pilot)
        await shows(pilot, "100")
        await pilot.press("r")  # again, and fail this time
        await wait_for_actions(pilot)
        for step in ["notify_affected", "normal_stop", "isolate_electrical", "to_press_electrical_only"]:
            await choose(pilot, step)
        await pilot.press("enter")  # past the incident
        await settled(pilot)
        await pilot.press("escape")
        text = await shows(pilot, failed)
        row = next(n for n, line in enumerate(text.splitlines()) if failed in line)
        assert source in text.splitlines()[row + 1]  # the certificate's line under it says it is an earlier pass's


async def test_the_map_at_80x24_shows_who_the_scene_names_and_how_to_get_the_scene_back(tmp_path):
    app = make_app(tmp_path / "t.db", lang="zh")
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "E15", "Ma", "Stamping")
        await open_course(pilot, PRESS)
        scene = "操作工小李在操作台前"
        assert scene in screen_text(app)
        await pilot.press("m")
        await settled(pilot)
        text = screen_text(app)
        assert scene not in text and "m：回到场景文字" in text  # the map took the scene's place, and says so
        assert "! 小李" in text  # where the course puts him: at the control panel
        await pilot.press("m")
        await settled(pilot)
        assert scene in screen_text(app)
        await pilot.press("question_mark")
        assert "m：车间平面图" in await shows(pilot, "帮助")
