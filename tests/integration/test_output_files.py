"""Every command that writes a file the user names (--out, --html, backups) follows trainer/outfile.py's policy.

Walked through the CLI for each command: an existing file is left alone without --force and replaced with it (keeping
its permissions); a device, a FIFO, a folder or a symbolic link is never replaced; a new file holding personal data is
readable by its owner only; a full disk is one line and leaves nothing behind.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_export_support import CRITICAL, EXPERT, FIXTURES, MINI, course, play, register

from trainer import outfile
from trainer.cli import main
from trainer.store.store import Store

ROOT = Path(__file__).resolve().parents[2]
OLD = b"an earlier file, kept unless --force"


@dataclass(frozen=True)
class Writer:
    name: str  # the test id
    file: str  # the target's file name (its suffix chooses the format for some commands)
    argv: Callable[[Path, Path], list[str]]  # (target, data folder) -> the command line
    private: bool  # holds trainees' personal data: a new file is 0600


WRITERS = [
    Writer(
        "export-scores-xlsx",
        "scores.xlsx",
        lambda t, d: ["export", "scores", "--courses", str(FIXTURES), "--format", "xlsx", "--out", str(t)],
        True,
    ),
    Writer(
        "export-scores-csv",
        "scores.csv",
        lambda t, d: ["export", "scores", "--courses", str(FIXTURES), "--format", "csv", "--out", str(t)],
        True,
    ),
    Writer("export-xapi", "statements.json", lambda t, d: ["export", "xapi", "--out", str(t)], True),
    Writer(
        "report-course-html",
        "report.html",
        lambda t, d: ["report", "course", "mini", "--courses", str(FIXTURES), "--html", str(t)],
        True,
    ),
    Writer(
        "label-export",
        "labels.jsonl",
        lambda t, d: ["label", "export", "--all", "--courses", str(FIXTURES), "--out", str(t)],
        True,
    ),
    Writer("db-backup", "backup.db", lambda t, d: ["db", "backup", str(t)], True),
    Writer(
        "simulate", "sim.jsonl", lambda t, d: ["simulate", "--course", str(MINI), "--n", "3", "--out", str(t)], False
    ),
    Writer(
        "model-train",
        "model.skops",
        lambda t, d: ["model", "train", "--data", str(d / "train.jsonl"), "--splits", "2", "--repeats", "1", "--out", str(t)],
        False,
    ),
]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with sessions and a labelled-session file to train on."""
    folder = tmp_path_factory.mktemp("data")
    with Store.open(folder / "trainer.db") as store:
        register(store, "W1", "张伟", "冲压车间")
        play(store, course(), "W1", EXPERT)
        play(store, course(), "W1", CRITICAL)
    made = ["simulate", "--course", "press-loto-die-change", "--n", "60", "--seed", "3", "--label", "reference"]
    assert main([*made, "--out", str(folder / "train.jsonl")]) == 0
    return folder


@pytest.fixture(autouse=True)
def _environment(data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TRAINER_DB", str(data / "trainer.db"))
    monkeypatch.delenv("TRAINER_COURSES", raising=False)
    monkeypatch.setenv("TRAINER_MODEL", str(data / "none-installed.skops"))  # never the user's installed model
    mask = os.umask(0o022)
    yield
    os.umask(mask)


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def refused(code: int, err: str, target: Path) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0 and len(lines) == 1 and lines[0].startswith("trainer: error: "), err
    assert str(target) in err and "Traceback" not in err, err


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name)


CASES = ["existing", "existing-force", "device", "fifo", "folder", "symlink", "new"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("writer", WRITERS, ids=[w.name for w in WRITERS])
def test_every_output_file_follows_the_policy(writer, case, data, tmp_path, capsys):
    target = tmp_path / writer.file
    argv = writer.argv(target, data)
    if case == "existing":
        target.write_bytes(OLD)
        code, err = run(capsys, argv)
        refused(code, err, target)
        assert "--force" in err and target.read_bytes() == OLD
    elif case == "existing-force":
        target.write_bytes(OLD)
        os.chmod(target, 0o640)
        code, err = run(capsys, [*argv, "--force"])
        assert code == 0, err
        assert target.read_bytes() != OLD and stat.S_IMODE(target.stat().st_mode) == 0o640
    elif case == "device":
        try:
            os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own, safe to lose
        except PermissionError:
            pytest.skip("making a device node needs root")
        code, err = run(capsys, [*argv, "--force"])
        refused(code, err, target)
        assert stat.S_ISCHR(target.lstat().st_mode)
    elif case == "fifo":
        os.mkfifo(target)
        reader = os.open(target, os.O_RDONLY | os.O_NONBLOCK)  # so that a writer opening it would not hang the test
        try:
            code, err = run(capsys, [*argv, "--force"])
        finally:
            os.close(reader)
        refused(code, err, target)
        assert stat.S_ISFIFO(target.lstat().st_mode)
    elif case == "folder":
        target.mkdir()
        code, err = run(capsys, [*argv, "--force"])
        refused(code, err, target)
        assert target.is_dir() and list(target.iterdir()) == []
    elif case == "symlink":
        pointee = tmp_path / "kept.bin"
        pointee.write_bytes(OLD)
        target.symlink_to(pointee)
        code, err = run(capsys, [*argv, "--force"])
        refused(code, err, target)
        assert target.is_symlink() and pointee.read_bytes() == OLD
    else:
        code, err = run(capsys, argv)
        assert code == 0, err
        assert stat.S_IMODE(target.stat().st_mode) == (0o600 if writer.private else 0o644)
    assert leftovers(tmp_path) == []


FAST = [w for w in WRITERS if w.name != "model-train"]


@pytest.mark.parametrize("writer", FAST, ids=[w.name for w in FAST])
def test_a_full_disk_is_one_line_and_keeps_the_previous_file(writer, data, tmp_path, capsys, monkeypatch):
    target = tmp_path / writer.file
    target.write_bytes(OLD)

    def full(path: Path) -> None:  # ext4 and NFS may report a full disk only when the data is flushed
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(outfile, "_fsync", full)
    code, err = run(capsys, [*writer.argv(target, data), "--force"])
    refused(code, err.splitlines()[-1], target)  # after the work's progress bar (simulate), if any: one line
    assert "Traceback" not in err and "No space left on device" in err and "the previous file was left as it was" in err
    assert target.read_bytes() == OLD and leftovers(tmp_path) == []


@pytest.fixture
def full_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs with no space left (needs root; skipped elsewhere)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize(
    "argv",
    [
        ["label", "export", "--all", "--courses", str(FIXTURES), "--out", "{}/labels.jsonl.gz"],
        ["label", "export", "--all", "--courses", str(FIXTURES), "--out", "{}/labels.jsonl"],
        ["export", "xapi", "--out", "{}/statements.json"],
        ["db", "backup", "{}/backup.db"],
    ],
    ids=["label-export-gz", "label-export", "export-xapi", "db-backup"],
)
def test_a_really_full_disk_leaves_no_partial_file_and_no_traceback(argv, data, full_tmpfs):
    before = sorted(p.name for p in full_tmpfs.iterdir())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRAINER_DB": str(data / "trainer.db")}
    done = subprocess.run(
        [sys.executable, "-m", "trainer", *(a.format(full_tmpfs) for a in argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("trainer: error: "), done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in full_tmpfs.iterdir()) == before  # no partial file, no temporary file


def test_model_evaluate_report_files_follow_the_policy(data, tmp_path, capsys):
    model = tmp_path / "m" / "model.skops"
    assert main(["model", "train", "--data", str(data / "train.jsonl"), "--splits", "2", "--repeats", "1", "--out", str(model)]) == 0
    capsys.readouterr()
    report = tmp_path / "report"
    evaluate = ["model", "evaluate", "--model", str(model), "--data", str(data / "train.jsonl"), "--curve", "0"]
    assert main([*evaluate, "--report", str(report)]) == 0
    capsys.readouterr()
    written = {p.name: p.read_bytes() for p in report.iterdir()}
    assert "report.json" in written
    code, err = run(capsys, [*evaluate, "--report", str(report)])
    refused(code, err, report / "report.json")
    assert {p.name: p.read_bytes() for p in report.iterdir()} == written
    assert main([*evaluate, "--report", str(report), "--force"]) == 0
    capsys.readouterr()
    a_file = tmp_path / "not-a-folder"
    a_file.write_bytes(OLD)
    code, err = run(capsys, [*evaluate, "--report", str(a_file), "--force"])
    refused(code, err, a_file)
    assert a_file.read_bytes() == OLD
