"""--db, --courses and --lang mean the same before and after the command's name, for every command.

Before the fix each subcommand re-declared the options with its own default, which overwrote the value given before the
command: `trainer --db plant2.db sessions list` listed the default database. Here a decoy database is the default
(TRAINER_DB), so an option that is dropped shows up as the decoy's contents.
"""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from trainer.cli import ALL_COMMON, build_parser, main, settle_common
from trainer.errors import UsageError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MINI = FIXTURES / "mini_course.yaml"

# The smallest valid line for every command (after its name). A new command must be added here: the walk below
# fails on a command it does not know, so none escapes the check.
MINIMAL: dict[str, list[str]] = {
    "": [],
    "course check": ["x.yaml"],
    "course list": [],
    "course schema": [],
    "course new": ["conveyor-jam"],
    "course test": ["x.yaml"],
    "course graph": ["x.yaml"],
    "play": ["c", "--badge", "1", "--script", "s.txt"],
    "sessions list": [],
    "sessions show": ["abc"],
    "sessions verify": [],
    "sessions void": ["abc", "--reason", "r"],
    "export xapi": ["--out", "x.json"],
    "export scores": ["--out", "x.csv"],
    "instructor": [],
    "instructor set-password": ["--stdin"],
    "db info": [],
    "db upgrade": [],
    "db set": ["site.name", "Plant 2"],
    "db backup": ["b.db"],
    "db restore": ["b.db"],
    "db copy": ["--from", "a.db", "--to", "b.db"],
    "report course": ["c"],
    "report trainee": ["1"],
    "report due": [],
    "simulate": ["--n", "1", "--out", "x.jsonl"],
    "model train": ["--data", "x.jsonl"],
    "model evaluate": ["--data", "x.jsonl"],
    "model info": [],
    "model sign": [],
    "label": [],
    "label export": ["--out", "x.jsonl"],
    "label import": ["x.jsonl"],
    "score": ["--all"],
    "serve": [],
    "audit list": [],
    "trainees": [],
    "trainees pins": [],
    "trainees set-pin": ["1"],
    "trainees import": ["r.csv"],
    "trainees edit": ["1", "--name", "x"],
    "trainees merge": ["1", "2", "--reason", "r"],
    "trainees list": [],
    "requirements": [],
    "requirements load": ["r.csv"],
    "requirements show": [],
    "report compliance": [],
    "export overdue": ["--out", "x.csv"],
}
VALUES = {"db": ["--db", "sqlite:///plant2.db"], "courses": ["--courses", "/srv/courses"], "lang": ["--lang", "en"]}


def leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command line the parser accepts, as its words: the runnable commands, groups that run one included."""
    found = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += leaves(child, (*path, name))
    return found


def outcome(argv: list[str]) -> argparse.Namespace | str:
    """The settled options of a command line, or the usage error it gets."""
    try:
        with redirect_stderr(io.StringIO()) as err:
            args = build_parser().parse_args(argv)
    except SystemExit:
        return f"usage: {err.getvalue()}"
    try:
        settle_common(args)
    except UsageError as exc:
        return f"refused: {exc}"
    return args


def without_handler(args: argparse.Namespace | str) -> object:
    return args if isinstance(args, str) else {k: v for k, v in vars(args).items() if k != "handler"}


def test_the_walk_knows_every_command():
    groups = {"course", "sessions", "export", "db", "report", "model", "audit"}  # they only say which command to choose
    known = {" ".join(words) for words in leaves(build_parser())} - groups
    assert known == set(MINIMAL)


@pytest.mark.parametrize("command", sorted(MINIMAL))
@pytest.mark.parametrize("option", ALL_COMMON)
def test_a_common_option_means_the_same_before_and_after_the_command(command, option):
    words = command.split()
    before = outcome([*VALUES[option], *words, *MINIMAL[command]])
    after = outcome([*words, *MINIMAL[command], *VALUES[option]])
    assert without_handler(before) == without_handler(after)
    if isinstance(before, str):  # a command that does not read the option refuses it, in one line, either way
        assert before.startswith("refused:") and VALUES[option][0] in before, before
    else:
        assert before.handler is after.handler
        expected = [VALUES[option][1]] if option == "courses" else VALUES[option][1]
        assert getattr(before, option) == expected


def test_course_folders_given_before_and_after_are_all_used():
    args = outcome(["--courses", "/a", "course", "list", "--courses", "/b"])
    assert not isinstance(args, str) and args.courses == ["/a", "/b"]


def test_an_option_a_command_does_not_read_is_refused_not_ignored(capsys):
    assert main(["--db", "sqlite:///plant2.db", "course", "check", str(MINI)]) == 2
    assert main(["course", "schema", "--lang", "en"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "trainer: error: --db does not apply to `trainer course check`; leave it out",
        "trainer: error: --lang does not apply to `trainer course schema`; leave it out",
    ]


# --- the commands the issue saw ignore an option given before them, run for real --------------------------------------


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def plant(tmp_path, monkeypatch):
    """A decoy default database (TRAINER_DB, empty) and plant2.db holding one finished session of badge P2."""
    monkeypatch.setenv("TRAINER_DB", f"sqlite:///{tmp_path / 'decoy.db'}")
    db = f"sqlite:///{tmp_path / 'plant2.db'}"
    script = tmp_path / "s.txt"
    script.write_text("2 lock\n3 work\n", encoding="utf-8")
    code, out = run("--db", db, "play", str(MINI), "--badge", "P2", "--name", "王五", "--department", "冲压",
                    "--script", str(script), "--seed", "1")  # fmt: skip
    assert code == 0, out
    return tmp_path, db, out.splitlines()[0].split()[1]


@pytest.mark.parametrize("where", ["before", "after"])
def test_the_database_given_anywhere_is_the_one_used(plant, where):
    tmp_path, db, session = plant

    def at(*command: str) -> tuple[int, str]:
        return run("--db", db, *command) if where == "before" else run(*command, "--db", db)

    code, out = at("sessions", "list")
    assert code == 0 and "P2" in out
    code, out = at("sessions", "verify")
    assert code == 0 and "1 session(s) checked" in out, out
    code, out = at("db", "info")
    assert "plant2.db" in out and "decoy" not in out
    target = tmp_path / f"backup-{where}.db"
    code, out = at("db", "backup", str(target))
    assert code == 0, out
    code, out = run("--db", f"sqlite:///{target}", "sessions", "list")
    assert "P2" in out  # the backup is of plant2.db, not of the decoy
    code, out = at("report", "trainee", "P2")
    assert code == 0 and "王五" in out, out
    # Nothing was ever written to the default database.
    code, out = run("sessions", "list")
    assert "P2" not in out


@pytest.mark.parametrize("where", ["before", "after"])
def test_set_password_goes_to_the_database_given(plant, where, monkeypatch):
    _, db, _ = plant
    monkeypatch.setattr("sys.stdin", io.StringIO("long-s3cret-pass\n"))
    command = ["instructor", "set-password", "--stdin"]
    code, out = run("--db", db, *command) if where == "before" else run(*command, "--db", db)
    assert code == 0, out
    from trainer.instructor_password import SETTING
    from trainer.store.store import Store

    with Store.open(db) as store:
        assert store.get_setting(SETTING) is not None
    with Store.open(None) as decoy:
        assert decoy.get_setting(SETTING) is None


@pytest.mark.parametrize("where", ["before", "after"])
def test_courses_and_lang_given_anywhere_reach_sessions_show(plant, where):
    tmp_path, db, _ = plant
    folder = tmp_path / "mine"
    folder.mkdir()
    # The same course in a folder of its own, with a text that only exists there: proof that --courses was read.
    (folder / "mini.yaml").write_text(MINI.read_text(encoding="utf-8").replace("en: Never}", "en: \"Never, mine\"}"))
    script = tmp_path / "reach.txt"
    script.write_text("reach\n", encoding="utf-8")
    code, out = run("--db", db, "--courses", str(folder), "play", "mini", "--badge", "P2", "--script", str(script))
    assert code == 0, out
    session = out.splitlines()[0].split()[1]
    options = ["--db", db, "--courses", str(folder), "--lang", "zh"]
    command = ["sessions", "show", session]
    code, out = run(*options, *command) if where == "before" else run(*command, *options)
    assert code == 0, out
    assert "不许" in out and "Never" not in out  # Chinese, as asked
    code, out = run("--lang", "en", *command, "--db", db, "--courses", str(folder))
    assert "Never, mine" in out  # the course from the folder given, in English
