"""Posting statements to a real LRS: Ralph (ralph-malph, file backend) on loopback, in its own virtual environment.

Ralph pins its own dependencies (FastAPI, pydantic, uvicorn...), so it gets a venv of its own, built on first use and
cached in ~/.cache/trainer-tests/ralph-venv (override with TRAINER_RALPH_VENV). The LRS tests are skipped only when
TRAINER_SKIP_LRS is set. The retry and error tests at the end use a scripted HTTP server and always run.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from trainer.course.loader import load_course
from trainer.course.model import Course
from trainer.engine.clock import ManualClock, ms_from_seconds
from trainer.export import xapi
from trainer.export.lrs import LRSClient, LRSError, MemoryLedger, Outgoing, ledger_prefix, send

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "mini_course.yaml"
RALPH_SPEC = "ralph-malph[cli,lrs]==5.1.0"
# ralph-malph 5.1.0's LRS imports `requests` (OIDC support) without declaring it for these extras.
RALPH_EXTRA = ("requests",)
USER, PASSWORD = "trainer-bot", "s3cret-for-tests"
HOME = "https://factory.example.com"

# Ralph's file backend (4.2 to 5.1 alike) writes the LRS file in "create" mode: the first POST that stores anything
# creates fs_lrs.jsonl, and every later one fails with 500 "already exists and overwrite is not allowed". The server is
# started with this sitecustomize (on PYTHONPATH, so the worker that `runserver` spawns loads it too), which makes the
# backend append instead. Nothing else of Ralph is changed: the API, authentication, de-duplication and queries are its own.
FS_APPEND_FIX = """\
from ralph.backends.data.base import BaseOperationType
from ralph.backends.data.fs import FSDataBackend

FSDataBackend.default_operation_type = BaseOperationType.APPEND
"""

needs_lrs = pytest.mark.skipif(bool(os.environ.get("TRAINER_SKIP_LRS")), reason="TRAINER_SKIP_LRS is set")


# --- Ralph in its own venv ------------------------------------------------------------------------------------------


def _venv_dir() -> Path:
    configured = os.environ.get("TRAINER_RALPH_VENV")
    if configured:
        return Path(configured).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "trainer-tests" / "ralph-venv"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_ralph() -> Path:
    """The python of a venv with Ralph installed: reused when its marker names the same spec, else (re)built.

    A lock file keeps two test runs from building it at once; the marker is written last, so an interrupted build is
    thrown away and redone by the next run.
    """
    venv = _venv_dir()
    venv.parent.mkdir(parents=True, exist_ok=True)
    marker = venv / "trainer-ralph.json"
    wanted = {"spec": RALPH_SPEC, "extra": list(RALPH_EXTRA), "python": sys.version.split()[0]}
    with open(venv.parent / (venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.suppress(OSError, ValueError):
            if json.loads(marker.read_text()) == wanted and _venv_python(venv).exists():
                return _venv_python(venv)
        shutil.rmtree(venv, ignore_errors=True)
        started = time.monotonic()
        _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
        _run(
            [
                str(_venv_python(venv)),
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--quiet",
                RALPH_SPEC,
                *RALPH_EXTRA,
            ],
            timeout=1200,
        )
        marker.write_text(json.dumps(wanted))
        print(f"built {venv} with {RALPH_SPEC} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return _venv_python(venv)


def _run(cmd: list[str], *, timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"timed out after {timeout:.0f}s: {' '.join(cmd)}")
    if done.returncode != 0:
        pytest.fail(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Ralph:
    endpoint: str  # the xAPI endpoint: http://127.0.0.1:PORT/xAPI
    data: Path  # the file backend's folder: every stored statement is one line of a .jsonl file there

    def stored_lines(self) -> int:
        return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in self.data.glob("*.jsonl"))

    def client(self, **kwargs: Any) -> LRSClient:
        return LRSClient(self.endpoint, USER, PASSWORD, **kwargs)


@pytest.fixture(scope="module")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    if os.environ.get("TRAINER_SKIP_LRS"):
        pytest.skip("TRAINER_SKIP_LRS is set")
    python = ensure_ralph()
    root = tmp_path_factory.mktemp("ralph")
    app, data, cwd = root / "app", root / "data", root / "cwd"
    for d in (app, data, cwd):
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RALPH_")}
    env.update(
        RALPH_APP_DIR=str(app),
        RALPH_AUTH_FILE=str(app / "auth.json"),
        RALPH_RUNSERVER_BACKEND="fs",
        RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH=str(data),
    )
    # `ralph auth` writes the user (bcrypt hash, scopes, the agent it stands for) into the auth file the server reads.
    _run(
        [str(python), "-m", "ralph", "auth", "-u", USER, "-p", PASSWORD, "-s", "all", "-A", USER, HOME, "-w"],
        timeout=120,
        env=env,
    )
    fix = root / "fix"
    fix.mkdir()
    (fix / "sitecustomize.py").write_text(FS_APPEND_FIX, encoding="utf-8")
    server_env = {**env, "PYTHONPATH": str(fix)}  # the server and the worker it spawns both start with the fix
    for _ in range(3):  # the free port may be taken between looking and binding: try another
        port = _free_port()
        log = (root / f"server-{port}.log").open("w")
        server = subprocess.Popen(
            [str(python), "-m", "ralph", "runserver", "-b", "fs", "-h", "127.0.0.1", "-p", str(port)]
            + ["--fs-default-directory-path", str(data)],
            cwd=cwd,  # runserver watches its working folder for code changes: give it an empty one
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the reloader and the worker are stopped together
        )
        try:
            if _wait_ready(f"http://127.0.0.1:{port}/__heartbeat__", server, timeout=90):
                break
        except BaseException:
            _stop(server)
            raise
        _stop(server)
        log.close()
    else:
        pytest.fail("Ralph did not start:\n" + log_tail(root))
    try:
        yield Ralph(f"http://127.0.0.1:{port}/xAPI", data)
    finally:
        _stop(server)
        log.close()


def _wait_ready(url: str, server: subprocess.Popen[bytes], *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return False
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return True
        time.sleep(0.25)
    return False


def _stop(server: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=wait)
            # the worker may outlive the reloader for a moment: make sure the whole group is gone
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            return


def log_tail(root: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(root.glob("server-*.log")))


# --- sessions in a store --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mini() -> Course:
    return load_course(MINI)


def play(store: Any, course: Course, badge: str, steps: list[tuple[float, str]]) -> Any:
    from trainer.session_service import DurableSession

    clock = ManualClock()
    durable = DurableSession.begin(store, course, badge, seed=11, lang="zh", clock=clock)
    for at, action in steps:
        clock.ms = ms_from_seconds(at)
        durable.choose(action)
    return durable


@pytest.fixture
def store_with_sessions(tmp_path: Path, mini: Course) -> Iterator[tuple[Path, list[str]]]:
    from trainer.store.store import Store

    db = tmp_path / "trainer.db"
    with Store.open(db) as store:
        store.upsert_trainee("B-0042", "王芳", "冲压车间")
        store.upsert_trainee("B-0077", "Li Lei", "Press shop")
        store.set_setting("site.url", HOME)
        a = play(store, mini, "B-0042", [(3.0, "lock"), (6.5, "work")])
        b = play(store, mini, "B-0077", [(2.0, "reach")])
        yield db, [a.id, b.id]


def exported(db: Path) -> dict[str, list[dict[str, Any]]]:
    """What `trainer export xapi` makes of the store, per registration (session)."""
    from trainer.cli import main

    out = db.parent / "export.json"
    assert main(["export", "xapi", "--db", str(db), "--out", str(out)]) == 0
    grouped: dict[str, list[dict[str, Any]]] = {}
    for s in json.loads(out.read_text(encoding="utf-8")):
        grouped.setdefault(s["context"]["registration"], []).append(s)
    return grouped


def outgoing(grouped: dict[str, list[dict[str, Any]]]) -> list[Outgoing]:
    """Exported statements as send() takes them, each in a slot of its own (its id): for a fresh ledger."""
    return [Outgoing(sid, [xapi.Slotted(s["id"], s) for s in made], made[0]["actor"]) for sid, made in grouped.items()]


def export_to(ralph: Ralph, db: Path, *extra: str) -> int:
    from trainer.cli import main

    return main(["export", "xapi", "--db", str(db), "--lrs", ralph.endpoint, "--lrs-user", USER, *extra])


def _same(statement: dict[str, Any], stored: dict[str, Any]) -> bool:
    keys = ("id", "actor", "verb", "object", "result", "context")
    return all(statement.get(k) == stored.get(k) for k in keys)


# --- against Ralph --------------------------------------------------------------------------------------------------


@needs_lrs
def test_post_read_back_and_rerun_sends_nothing_twice(ralph, store_with_sessions, monkeypatch, capsys):
    from trainer.store.store import Store

    db, session_ids = store_with_sessions
    monkeypatch.setenv("TRAINER_LRS_PASSWORD", PASSWORD)
    expected = exported(db)
    total = sum(len(v) for v in expected.values())
    before = ralph.stored_lines()
    capsys.readouterr()

    assert export_to(ralph, db, "--batch-size", "4") == 0
    summary = capsys.readouterr().err
    assert f"posted {total} statement(s) of 2 session(s)" in summary
    assert f"({total} new, 0 already there; 0 voiding superseded ones); 0 skipped" in summary
    assert ralph.stored_lines() == before + total

    client = ralph.client()
    for sid in session_ids:
        back = {s["id"]: s for s in client.query(registration=sid)}
        assert set(back) == {s["id"] for s in expected[sid]}
        for statement in expected[sid]:
            assert _same(statement, back[statement["id"]]), statement["verb"]

    with Store.open(db) as store:
        prefix = ledger_prefix(ralph.endpoint, HOME)
        ledger = {k.removeprefix(prefix): json.loads(v) for k, v in store.settings_under(prefix).items()}
    assert {sid: sorted(row.values()) for sid, row in ledger.items()} == {
        sid: sorted(s["id"] for s in expected[sid]) for sid in session_ids
    }

    # Rerun: the ledger says everything was accepted, so nothing is posted at all.
    assert export_to(ralph, db) == 0
    assert (
        f"posted 0 statement(s) of 0 session(s) in 0 batch(es) (0 new, 0 already there; 0 voiding superseded ones);"
        f" {total} skipped" in capsys.readouterr().err
    )
    assert ralph.stored_lines() == before + total
    for sid in session_ids:
        assert len(client.query(registration=sid)) == len(expected[sid])


@needs_lrs
def test_the_lrs_drops_copies_when_the_ledger_is_lost(ralph, store_with_sessions):
    """Another machine (or a lost database setting) posts the same sessions again: same ids, so nothing is stored twice."""
    db, session_ids = store_with_sessions
    expected = exported(db)
    client = ralph.client()
    first = send(client, outgoing(expected), MemoryLedger(), batch_size=3)
    assert first.stored == first.posted == sum(len(v) for v in expected.values())
    lines = ralph.stored_lines()

    again = send(client, outgoing(expected), MemoryLedger(), batch_size=3)
    assert again.posted == first.posted
    assert again.stored == 0
    assert again.already == again.posted
    assert again.conflicts == 0
    assert ralph.stored_lines() == lines
    for sid in session_ids:
        assert len(client.query(registration=sid)) == len(expected[sid])


@needs_lrs
def test_a_changed_statement_with_a_known_id_is_not_stored(ralph, store_with_sessions):
    db, _ = store_with_sessions
    expected = exported(db)
    client = ralph.client()
    send(client, outgoing(expected), MemoryLedger())
    lines = ralph.stored_lines()
    sid, statements = next(iter(expected.items()))
    changed = [dict(statements[0], timestamp="2020-01-01T00:00:00.000Z"), *statements[1:]]
    report = send(client, outgoing({sid: changed}), MemoryLedger())
    assert report.conflicts == 1
    assert report.already == len(changed)
    assert ralph.stored_lines() == lines


@needs_lrs
def test_a_session_that_grows_sends_only_its_new_statements(ralph, tmp_path, mini, monkeypatch, capsys):
    from trainer.session_service import DurableSession
    from trainer.store.store import Store

    monkeypatch.setenv("TRAINER_LRS_PASSWORD", PASSWORD)
    db = tmp_path / "grow.db"
    clock = ManualClock()
    with Store.open(db) as store:
        store.upsert_trainee("B-0100", "Zhao Min", "Press shop")
        store.set_setting("site.url", HOME)
        durable = DurableSession.begin(store, mini, "B-0100", seed=5, lang="en", clock=clock)
        clock.ms = 2000
        durable.choose("lock")
        capsys.readouterr()
        assert export_to(ralph, db) == 0
        assert "posted 3 statement(s) of 1 session(s)" in capsys.readouterr().err

        clock.ms = 4000
        durable.choose("work")
        assert export_to(ralph, db) == 0
        assert "posted 5 statement(s) of 1 session(s) in 1 batch(es) (5 new, 0 already there; 0 voiding" in (
            capsys.readouterr().err
        )
    verbs = [s["verb"]["display"]["en-US"] for s in ralph.client().query(registration=durable.id)]
    assert sorted(verbs) == sorted(
        ["initialized", "accessed", "selected", "selected", "accessed", "completed", "passed", "terminated"]
    )


@needs_lrs
def test_wrong_password_and_wrong_address_are_one_line_errors(ralph, store_with_sessions, monkeypatch, capsys):
    db, _ = store_with_sessions
    monkeypatch.setenv("TRAINER_LRS_PASSWORD", "wrong")
    capsys.readouterr()
    assert export_to(ralph, db) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "(401)" in err and "--lrs-password" in err and "wrong" not in err

    monkeypatch.setenv("TRAINER_LRS_PASSWORD", PASSWORD)
    from trainer.cli import main

    root = ralph.endpoint.removesuffix("/xAPI")
    assert main(["export", "xapi", "--db", str(db), "--lrs", root, "--lrs-user", USER]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "(404)" in err


ADL = "http://adlnet.gov/expapi/verbs/"


def rescore(db: Path, session_id: str, score: float, passed: bool) -> None:
    """A new scoring of a session (what `trainer score --all` stores after a model update), as its current score."""
    from trainer.store.store import Store

    row = {"session_id": session_id, "scorer": "model:test", "score": score, "passed": passed}
    with Store.open(db) as store:
        store.add_scores([{**row, "reason": "rescored", "review": False, "details": "[]"}])


def course_verdicts(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in statements if s["verb"]["id"] in (ADL + "passed", ADL + "failed")]


@needs_lrs
def test_a_rescore_reaches_the_lrs_as_a_new_statement_and_voids_the_old_one(
    ralph, store_with_sessions, monkeypatch, capsys
):
    """Issue 18, item 7: after a rescore the export used to say '0 posted, N skipped' and the LRS kept the old score."""
    db, (passed_id, _) = store_with_sessions
    monkeypatch.setenv("TRAINER_LRS_PASSWORD", PASSWORD)
    assert export_to(ralph, db) == 0
    client = ralph.client()
    [old] = course_verdicts(client.query(registration=passed_id))
    assert old["verb"]["id"] == ADL + "passed" and old["result"]["score"]["raw"] == 100.0

    rescore(db, passed_id, 55.0, False)  # a pass/fail flip: the verb changes too
    capsys.readouterr()
    assert export_to(ralph, db) == 0
    summary = capsys.readouterr().err
    assert "posted 2 statement(s) of 1 session(s) in 1 batch(es) (2 new, 0 already there; 1 voiding" in summary

    back = client.query(registration=passed_id)
    new = [s for s in course_verdicts(back) if s["id"] != old["id"]]
    assert [(s["verb"]["id"], s["result"]["score"]["raw"], s["result"]["success"]) for s in new] == [
        (ADL + "failed", 55.0, False)
    ]
    voids = [s for s in back if s["verb"]["id"] == ADL + "voided"]
    assert [v["object"] for v in voids] == [{"objectType": "StatementRef", "id": old["id"]}]
    assert voids[0]["actor"]["account"] == old["actor"]["account"]

    # The ledger now holds the new score: a rerun posts nothing, and a second rescore replaces the new one in turn.
    lines = ralph.stored_lines()
    assert export_to(ralph, db) == 0
    assert "posted 0 statement(s)" in capsys.readouterr().err
    assert ralph.stored_lines() == lines
    rescore(db, passed_id, 90.0, True)
    assert export_to(ralph, db) == 0
    back = client.query(registration=passed_id)
    voided = {v["object"]["id"] for v in back if v["verb"]["id"] == ADL + "voided"}
    current = [s for s in course_verdicts(back) if s["id"] not in voided]
    assert [(s["verb"]["id"], s["result"]["score"]["raw"]) for s in current] == [(ADL + "passed", 90.0)]


@needs_lrs
def test_a_session_voided_in_trainer_is_voided_in_the_lrs(ralph, tmp_path, mini, monkeypatch, capsys):
    """An interrupted session is posted as far as it went (suspended); voided by an instructor, its statements are
    voided in the LRS too."""
    from trainer.session_service import DurableSession
    from trainer.store.store import Store

    monkeypatch.setenv("TRAINER_LRS_PASSWORD", PASSWORD)
    db = tmp_path / "void.db"
    clock = ManualClock()
    with Store.open(db) as store:
        store.set_setting("site.url", HOME)
        store.upsert_trainee("B-0300", "Sun Li", "Press shop")
        durable = DurableSession.begin(store, mini, "B-0300", seed=2, lang="zh", clock=clock)
        clock.ms = 1500
        durable.choose("lock")
        durable.release()  # the trainee left mid-way: interrupted
    assert export_to(ralph, db) == 0
    client = ralph.client()
    posted = client.query(registration=durable.id)
    assert sorted(s["verb"]["display"]["en-US"] for s in posted) == [
        "accessed",
        "initialized",
        "selected",
        "suspended",
    ]
    with Store.open(db) as store:
        store.void(durable.id, "wrong trainee at the terminal", "instructor")
    capsys.readouterr()
    assert export_to(ralph, db) == 0
    assert "posted 4 statement(s) of 1 session(s)" in capsys.readouterr().err
    voided = {s["object"]["id"] for s in client.query(registration=durable.id) if s["verb"]["id"] == ADL + "voided"}
    assert voided == {s["id"] for s in posted}
    assert export_to(ralph, db) == 0
    assert "posted 0 statement(s)" in capsys.readouterr().err


@needs_lrs
def test_each_site_url_is_its_own_identity_and_ledger(ralph, store_with_sessions, monkeypatch, capsys):
    """Issue 18, item 8: the same badge at two sites is two agents; the ledger is kept per LRS and identity."""
    db, (first, _) = store_with_sessions
    monkeypatch.setenv("TRAINER_LRS_PASSWORD", PASSWORD)
    expected = exported(db)
    total = sum(len(v) for v in expected.values())
    assert export_to(ralph, db) == 0
    capsys.readouterr()
    plant2 = "https://plant2.factory.example.com"
    assert export_to(ralph, db, "--home-page", plant2) == 0
    assert f"posted {total} statement(s) of 2 session(s)" in capsys.readouterr().err
    homes = {s["actor"]["account"]["homePage"] for s in ralph.client().query(registration=first)}
    assert homes == {HOME, plant2}
    # Each identity's ledger is complete: neither re-posts, neither voids the other's statements.
    assert export_to(ralph, db) == 0
    assert export_to(ralph, db, "--home-page", plant2) == 0
    assert capsys.readouterr().err.count("posted 0 statement(s)") == 2


@needs_lrs
def test_wrong_credentials_fail_even_when_nothing_is_new(ralph, store_with_sessions, monkeypatch, capsys):
    """Issue 18, item 9: with everything sent before, a wrong password went unnoticed (exit 0, nothing posted)."""
    db, _ = store_with_sessions
    monkeypatch.setenv("TRAINER_LRS_PASSWORD", PASSWORD)
    assert export_to(ralph, db) == 0
    monkeypatch.setenv("TRAINER_LRS_PASSWORD", "not-the-password")
    capsys.readouterr()
    assert export_to(ralph, db) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "(401)" in err and "not-the-password" not in err


@needs_lrs
def test_conflicts_fail_the_run_and_are_listed(ralph, store_with_sessions, monkeypatch, capsys, tmp_path):
    """Issue 18, item 9: ids the LRS holds with other content used to be counted, exit 0, and never named."""
    db, (first, _) = store_with_sessions
    monkeypatch.setenv("TRAINER_LRS_PASSWORD", PASSWORD)
    statements = exported(db)[first]
    taken = [dict(s, timestamp="2020-01-01T00:00:00.000Z") for s in statements[:2]]  # same ids, other content
    ralph.client().post(taken)
    capsys.readouterr()
    listing = tmp_path / "conflicts.txt"
    assert export_to(ralph, db, "--conflicts", str(listing)) == 1
    err = capsys.readouterr().err
    assert "2 id(s) were there with other content" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("trainer: error: ") and all(s["id"] in last for s in taken) and str(listing) in last
    assert listing.read_text(encoding="utf-8").split() == [s["id"] for s in taken]
    # The rest went in; the ledger holds what the LRS has, so the next run is clean (the conflict was reported once).
    assert export_to(ralph, db) == 0


def test_posting_with_the_placeholder_home_page_is_refused(tmp_path, monkeypatch, capsys):
    """Issue 18, item 8: every plant was https://trainer.local, so badge B1001 at two plants was one agent."""
    from trainer.cli import main
    from trainer.store.store import Store

    db = tmp_path / "t.db"
    with Store.open(db):
        pass
    monkeypatch.setenv("TRAINER_LRS_PASSWORD", "p")
    with scripted((404, None, {}), (200, {"statements": []}, {}), (200, [], {})) as server:
        args = ["export", "xapi", "--db", str(db), "--lrs", server.endpoint, "--lrs-user", "u"]
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("trainer: error: ") and "trainer db set site.url" in err and "\n" not in err
        assert server.seen == []  # refused before anything was sent
        assert main([*args, "--home-page", "https://plant1.example-corp.com"]) == 0
    assert [(m, p.split("?")[0]) for m, p, _, _ in server.seen] == [("GET", "/xAPI/about"), ("GET", "/xAPI/statements")]


def test_db_set_site_url_name_and_profile_iri(tmp_path, capsys):
    from trainer.cli import main

    db = str(tmp_path / "t.db")
    assert main(["db", "set", "site.url", "https://plant2.example-corp.com/", "--db", db]) == 0
    assert main(["db", "set", "site.name", "  Plant 2,  Suzhou ", "--db", db]) == 0
    assert main(["db", "set", "xapi.iri", "https://training.example-corp.com/xapi", "--db", db]) == 0
    assert main(["db", "set", "site.url", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "site.url = https://plant2.example-corp.com\n" in out and out.endswith(
        "site.url = https://plant2.example-corp.com\n"
    )
    assert main(["db", "info", "--db", db]) == 0
    info = capsys.readouterr().out
    assert "site.name: Plant 2, Suzhou" in info and "xapi.iri: https://training.example-corp.com/xapi" in info
    for bad in (
        ["site.url", "plant2"],
        ["site.url", "https://trainer.local"],
        ["site.colour", "red"],
        ["site.name", " "],
    ):
        assert main(["db", "set", *bad, "--db", db]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(line.startswith("trainer: error: ") for line in err)

    out_file = tmp_path / "s.json"
    from trainer.session_service import DurableSession
    from trainer.store.store import Store

    with Store.open(db) as store:
        store.upsert_trainee("B1001", "王芳", "冲压车间")
        DurableSession.begin(store, load_course(MINI), "B1001", seed=1, lang="en", clock=ManualClock())
    assert main(["export", "xapi", "--db", db, "--out", str(out_file), "--no-names"]) == 0
    [first] = json.loads(out_file.read_text(encoding="utf-8"))[:1]
    assert first["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://plant2.example-corp.com", "name": "B1001"},
    }
    ext = first["context"]["extensions"]
    assert ext["https://training.example-corp.com/xapi/extensions/site"] == "Plant 2, Suzhou"
    assert ext["https://training.example-corp.com/xapi/extensions/seq"] == 1


def test_an_older_trainers_ledger_is_voided_and_the_sessions_posted_again():
    """A ledger that only counted statements (before ids followed content): what it lists is voided by its old ids."""
    ledger = MemoryLedger(counts={SID: 3})
    made = [{"id": xapi.legacy_statement_id(SID, 99), "n": 1}]
    out = Outgoing(SID, [xapi.Slotted("1", made[0])], ACTOR, event_count=2)
    with scripted((200, ids_of, {})) as server:
        report = send(LRSClient(server.endpoint, "u", "p"), [out], ledger)
    _, _, _, body = server.seen[0]
    voided = [s["object"]["id"] for s in body if s.get("verb", {}).get("id") == ADL + "voided"]
    assert voided == [
        xapi.legacy_statement_id(SID, 1),
        xapi.legacy_statement_id(SID, 2),
        xapi.legacy_statement_id(SID, 2, "score"),
    ]
    assert report.voided == 3 and ledger.rows == {SID: {"1": made[0]["id"]}}


# --- retries and refusals, against a scripted server -----------------------------------------------------------------


class Scripted(http.server.ThreadingHTTPServer):
    """Answers each request with the next (status, body, headers) of `script`, and records what it was sent."""

    def __init__(self, script: list[tuple[int, Any, dict[str, str]]]) -> None:
        self.script = list(script)
        self.seen: list[tuple[str, str, dict[str, str], Any]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/xAPI"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        status, payload, headers = self.server.script.pop(0) if self.server.script else (500, {"detail": "done"}, {})
        if callable(payload):
            payload = payload(body)
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def scripted(*script: tuple[int, Any, dict[str, str]]) -> Iterator[Scripted]:
    server = Scripted(list(script))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


SID = "6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f"
ACTOR = {"objectType": "Agent", "account": {"homePage": HOME, "name": "B-1"}}


def statements_for(n: int) -> list[dict[str, Any]]:
    return [{"id": xapi.legacy_statement_id(SID, i), "n": i} for i in range(1, n + 1)]


def session_of(statements: list[dict[str, Any]], sid: str = "s1") -> list[Outgoing]:
    return [Outgoing(sid, [xapi.Slotted(str(s["n"]), s) for s in statements], ACTOR)]


def ids_of(body: list[dict[str, Any]]) -> list[str]:
    return [s["id"] for s in body]


def sleeper() -> tuple[list[float], Callable[[float], None]]:
    slept: list[float] = []
    return slept, slept.append


def test_5xx_and_429_are_retried_with_backoff_then_the_batch_goes_through():
    slept, sleep = sleeper()
    with scripted(
        (503, {"detail": "busy"}, {}), (429, None, {"Retry-After": "2"}), (500, "oops", {}), (200, ids_of, {})
    ) as server:
        client = LRSClient(server.endpoint, "u", "p", sleep=sleep, backoff=0.5)
        report = send(client, session_of(statements_for(3)), MemoryLedger())
    assert report.stored == 3 and report.batches == 1
    assert slept == [0.5, 2.0, 2.0]  # backoff 0.5, then the server's Retry-After, then backoff 2.0 (third attempt)
    method, path, headers, body = server.seen[-1]
    assert (method, path) == ("POST", "/xAPI/statements")
    assert headers["x-experience-api-version"] == "1.0.3"
    assert headers["content-type"].startswith("application/json")
    assert headers["authorization"] == "Basic dTpw"  # base64("u:p")
    assert ids_of(body) == ids_of(statements_for(3))


def test_an_lrs_that_keeps_failing_stops_the_run_and_keeps_the_ledger():
    slept, sleep = sleeper()
    ledger = MemoryLedger()
    ids = ids_of(statements_for(4))
    with scripted((200, ids_of, {}), *[(502, {"detail": "bad gateway"}, {})] * 3) as server:
        client = LRSClient(server.endpoint, "u", "p", sleep=sleep, attempts=3)
        with pytest.raises(LRSError) as caught:
            send(client, session_of(statements_for(4)), ledger, batch_size=2)
    message = str(caught.value)
    assert "\n" not in message and "502" in message and "3 attempt(s)" in message
    assert ledger.rows == {"s1": {"1": ids[0], "2": ids[1]}}  # the first batch was accepted and is remembered
    assert len(slept) == 2


def test_refusals_are_one_line_errors_without_retries():
    for status, expect in ((401, "refused the credentials"), (403, "may not write"), (400, "rejected 1 statement(s)")):
        with scripted((status, {"detail": "no\nway"}, {})) as server:
            client = LRSClient(server.endpoint, "u", "secret-pw", sleep=lambda s: None)
            with pytest.raises(LRSError) as caught:
                send(client, session_of(statements_for(1)), MemoryLedger())
        assert expect in str(caught.value) and "\n" not in str(caught.value)
        assert "secret-pw" not in str(caught.value)
        assert len(server.seen) == 1


def test_a_conflicting_batch_is_retried_one_by_one():
    batch = statements_for(3)
    with scripted(
        (409, {"detail": "Differing statements already exist"}, {}),
        (200, ids_of, {}),
        (409, {"detail": "differs"}, {}),
        (204, None, {}),
    ) as server:
        report = send(LRSClient(server.endpoint, "u", "p"), session_of(batch), MemoryLedger())
    assert (report.posted, report.stored, report.already, report.conflicts) == (3, 1, 2, 1)
    assert [ids_of(body) for _, _, _, body in server.seen[1:]] == [[s["id"]] for s in batch]


def test_connection_refused_is_retried_then_reported():
    slept, sleep = sleeper()
    client = LRSClient(f"http://127.0.0.1:{_free_port()}/xAPI", "u", "p", sleep=sleep, attempts=2, timeout=2)
    with pytest.raises(LRSError, match="cannot reach the LRS"):
        send(client, session_of(statements_for(1)), MemoryLedger())
    assert slept == [0.5]


def test_the_credentials_and_the_xapi_version_are_checked_before_anything_is_posted():
    with (
        scripted(
            (200, {"version": ["1.0.3"]}, {}), (401, {"detail": "Invalid authentication credentials"}, {})
        ) as server,
        pytest.raises(LRSError, match=r"refused the credentials of user 'u' \(401\)"),
    ):
        LRSClient(server.endpoint, "u", "wrong").check()
    (_, about, about_headers, _), (_, read, _, _) = server.seen
    assert about == "/xAPI/about" and about_headers["authorization"] == "Basic dTp3cm9uZw=="
    assert read == "/xAPI/statements?limit=1"
    with scripted((200, {"version": ["2.0.0"]}, {})) as server, pytest.raises(LRSError, match="not 1.0.x"):
        LRSClient(server.endpoint, "u", "p").check()
    # A user that may write but not read statements is fine for posting.
    with scripted((404, None, {}), (403, {"detail": "forbidden"}, {})) as server:
        LRSClient(server.endpoint, "u", "p").check()


def test_endpoint_is_normalised_and_credentials_stay_out_of_urls():
    assert LRSClient("https://lrs.example.org/xAPI/statements/").endpoint == "https://lrs.example.org/xAPI"
    with pytest.raises(LRSError, match="--lrs-user"):
        LRSClient("https://bot:pw@lrs.example.org/xAPI")
    with pytest.raises(LRSError, match="xAPI endpoint"):
        LRSClient("lrs.example.org")
