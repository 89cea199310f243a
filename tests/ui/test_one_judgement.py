"""One judgement, everywhere (issue 16): each mistake has the same severity in the debrief, the instructor's session
view, `trainer sessions show`, the course report, the XLSX score sheet and the xAPI statements: its grade in the graded
list stored when the session ended, whatever the course declares."""

from __future__ import annotations

import json
import re
from collections import Counter

import openpyxl
import pytest
from screen import ROOT, screen_text, settled

from trainer.cli import main
from trainer.course.library import load_library
from trainer.engine.clock import ManualClock
from trainer.reports import course_report
from trainer.scoring.judgement import read
from trainer.session_service import DurableSession
from trainer.store.store import Store
from trainer.tui.app import TrainerApp
from trainer.tui.screens.debrief import DebriefScreen

COURSES = ROOT / "courses"
LOTO_EXPERT = [
    "review_energy", "notify_affected", "normal_stop", "isolate_electrical", "isolate_hydraulic", "isolate_air",
    "lock_electrical", "lock_hydraulic", "lock_air", "bleed_energy", "to_press", "wait_flywheel", "insert_blocks", "release_counterbalance",
    "to_controls", "try_start", "test_voltage", "return_neutral", "start_die_change", "free_slug_tool", "clamp_die",
    "remove_tools", "remove_blocks", "refit_guards", "check_clear", "to_unlock", "remove_own_locks", "notify_restart",
    "energize", "stop_entry", "inch_through", "single_stroke",
]  # fmt: skip
SHIFT_TO_CURTAIN = [
    "read_log", "start_check", "check_guards", "check_air", "to_station", "refit_console", "test_estop",
    "test_each_hand", "test_release", "test_tiedown", "test_single", "to_curtain",
]  # fmt: skip


def loto_case() -> list[str]:
    """The worker's session: a hint, a stranger let into the lockout zone, tools left in the die, restart unannounced."""
    steps = list(LOTO_EXPERT)
    steps.insert(steps.index("free_slug_tool"), "let_coworker_in")
    steps.remove("remove_tools")
    steps[steps.index("to_unlock")] = "to_unlock_tools_in"
    steps.remove("notify_restart")
    return ["hint", *steps[: steps.index("energize")], "energize_unannounced"]


CASES = [
    ("press-loto-die-change", loto_case(), 1),  # seed 1: the coworker walks in while the die is changed
    ("press-shift-check", [*SHIFT_TO_CURTAIN, "skip_curtain", "fix_with_tool"], 0),  # one root, 6 consequences
    ("press-shift-check", [*SHIFT_TO_CURTAIN, "hand_test"], 0),
]


def play(store: Store, course, steps: list[str], seed: int) -> str:
    clock = ManualClock()
    durable = DurableSession.begin(store, course, "J1", seed=seed, clock=clock, lang="en")
    for step in steps:
        clock.advance(2000)
        durable.tick()
        if step == "hint":
            durable.hint()
        else:
            durable.choose(step)
    assert durable.engine.ended
    return durable.id


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    db = tmp_path_factory.mktemp("judgement") / "j.db"
    library = load_library()
    with Store.open(f"sqlite:///{db}") as store:
        store.upsert_trainee("J1", "Jiang", "Stamping")
        ids = [play(store, library.get(cid), steps, seed) for cid, steps, seed in CASES]
        truth = {sid: read(store.scores(sid)[-1].details) for sid in ids}
    return db, ids, truth, library


def counted(judged) -> list[tuple[str, str]]:
    return [(j.code, j.severity) for j in judged if j.counts]


def test_the_cases_have_graded_mistakes_and_folded_consequences(played):
    _, ids, truth, _ = played
    loto, skipped, _ = (truth[i] for i in ids)
    assert {"HINT_USED", "UNPROTECTED_PERSON_ENTERED", "TOOLS_LEFT_IN_DIE", "RESTART_WITHOUT_NOTICE"} <= {
        code for code, _ in counted(loto)
    }
    hint = next(j for j in loto if j.code == "HINT_USED")
    assert (hint.severity, hint.points) == ("minor", 5.0)  # what the help says, whatever the model thinks
    assert counted(skipped) and [c for c, _ in counted(skipped)] == ["CURTAIN_TEST_SKIPPED"]
    assert sum(1 for j in skipped if j.under) == 6  # 1.1.0: one static-test step where three rod tests were


async def test_the_debrief_and_the_instructors_view_show_the_stored_grades(played):
    db, ids, truth, library = played
    for instructor in (False, True):
        for sid, (cid, _, _) in zip(ids, CASES, strict=True):
            store = Store.open(f"sqlite:///{db}")
            app = TrainerApp(library, store, lang="en")
            async with app.run_test(size=(200, 200)) as pilot:
                app.push_screen(DebriefScreen(library.get(cid), sid, instructor=instructor))
                await settled(pilot)
                text = screen_text(app)
            store.close()
            shown = re.findall(r"-(\d+) \S+ (minor|serious|critical) \[", text)
            assert [(float(p), s) for p, s in shown] == [(j.points, j.severity) for j in truth[sid] if j.counts]


def test_sessions_show_lists_the_stored_grades(played, capsys):
    db, ids, truth, _ = played
    for sid in ids:
        assert main(["sessions", "show", sid, "--db", str(db), "--courses", str(COURSES)]) == 0
        out = capsys.readouterr().out
        shown = re.findall(r"^  -\S+  (\w+) \((\w+)\)", out, re.M)
        assert shown == counted(truth[sid])
        for code, severity in counted(truth[sid]):  # the timeline too, for mistakes recorded as events
            assert f"{code} ({severity})" in out


def test_the_course_report_counts_the_stored_grades(played):
    db, ids, truth, library = played
    with Store.open(f"sqlite:///{db}") as store:
        for cid in ("press-loto-die-change", "press-shift-check"):
            report = course_report.load(store, cid, library.get(cid))
            got = Counter({(m.code, str(m.severity)): m.count for m in report.mistakes})
            expected = Counter(
                pair for sid, (c, _, _) in zip(ids, CASES, strict=True) if c == cid for pair in counted(truth[sid])
            )
            assert got == expected


def test_the_xlsx_counts_mistakes_by_the_graded_severity(played, tmp_path):
    db, ids, truth, _ = played
    out = tmp_path / "s.xlsx"
    assert main(["export", "scores", "--db", str(db), "--courses", str(COURSES), "--out", str(out)]) == 0
    sheet = openpyxl.load_workbook(out)["Attempts"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    head = rows[0]
    col = {name: head.index(name) for name in head}
    by_session = {r[col["session"]]: r for r in rows[1:]}
    for sid in ids:
        r = by_session[sid]
        tally = Counter(s for _, s in counted(truth[sid]))
        assert (r[col["minor mistakes"]], r[col["serious mistakes"]], r[col["critical mistakes (number)"]]) == (
            tally["minor"],
            tally["serious"],
            tally["critical"],
        )


def test_the_xapi_statements_carry_the_stored_grades(played, tmp_path):
    db, ids, truth, _ = played
    out = tmp_path / "x.json"
    assert main(["export", "xapi", "--db", str(db), "--courses", str(COURSES), "--out", str(out)]) == 0
    statements = json.loads(out.read_text(encoding="utf-8"))
    ext = "https://trainer.local/xapi/extensions/"  # no site.url set: the placeholder's profile IRI
    for sid in ids:
        mine = [s for s in statements if s["context"]["registration"] == sid]
        by_id = {j.mistake: j for j in truth[sid]}
        for s in mine:
            mistake = s.get("result", {}).get("extensions", {}).get(ext + "mistake")
            if mistake is not None:
                assert mistake["severity"] == by_id[f"m{s['context']['extensions'][ext + 'seq']}"].severity
        final = [s for s in mine if ext + "mistakes" in s.get("result", {}).get("extensions", {})]
        assert len(final) == 1
        listed = final[0]["result"]["extensions"][ext + "mistakes"]
        assert [(m["code"], m["severity"]) for m in listed if m["severity"] != "none"] == counted(truth[sid])
