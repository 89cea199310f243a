"""The one policy for every file Trainer writes on a user's say-so (--out, --html, --report, backups, restores).

A file is written whole or not at all: into a temporary file beside the target, flushed to the disk, then renamed over
it. Before that, the target is looked at, because a rename replaces whatever has the name:
- Only a regular file or a new name is written. A folder, a device (/dev/null, /dev/full), a FIFO or a socket is refused;
  a rename would put a regular file in its place. A symbolic link is refused too: writing through it would let whoever
  made the link choose which file is replaced (a link planted in a shared folder), and replacing it would break the
  link. Give the file the link points to instead.
- An existing file is replaced only with force=True (the CLI's --force), and keeps its permissions (and, for root, its
  owner): a private score sheet stays private.
- A new file that holds personal data (private=True: score sheets, xAPI statements, reports, label exports, backups) is
  created readable by its owner only (0600); other new files get the usual permissions (0666 less the umask).
- `companions`: suffixes of files that belong to the target (an SQLite database's -wal, -shm, -journal). SQLite would
  replay a stale -wal into the new file, so one beside the target is refused, or with force removed just before the
  rename (never after: nothing may open the new file together with the old file's journal).
- A full disk or any other failure is one TrainerError naming the file; the temporary file is removed and the previous
  file (or nothing) is left in place.
Nothing else in Trainer opens an output target: writers get a temporary path from write() and fill it.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from trainer.errors import TrainerError

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
_PRIVATE_MODE = 0o600


class OutputError(TrainerError):
    """A target that may not be written (or could not be): the message names it and says what to do."""


def check(
    path: str | os.PathLike[str],
    what: str,
    *,
    force: bool = False,
    companions: Sequence[str] = (),
    make_folder: bool = False,
) -> Path:
    """Fail early (before minutes of work) when `path` may not or cannot be written; return it (with ~ expanded).

    write() checks again just before the rename: the target may have changed meanwhile.
    """
    target = Path(path).expanduser()
    _existing(target, what, force=force, companions=companions, make_folder=make_folder)
    return target


def write(
    path: str | os.PathLike[str],
    fill: Callable[[Path], object],  # what it returns is ignored (Path.write_text's count, say)
    what: str,
    *,
    force: bool = False,
    private: bool = False,
    companions: Sequence[str] = (),
    make_folder: bool = False,
) -> Path:
    """Call `fill(tmp)` to write a temporary file beside `path`, then put it in place of `path`; return `path`.

    The temporary file ends in the target's suffix (writers that choose a format by the name, gzip or matplotlib, see
    the right one). `fill` may raise OSError (reported in one line) or TrainerError (passed on); either way nothing is
    left behind.
    """
    target = Path(path).expanduser()
    _existing(target, what, force=force, companions=companions, make_folder=make_folder)
    if make_folder:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _failed(target, what, exc, existed=False) from None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    except OSError as exc:
        raise _failed(target, what, exc, existed=False) from None
    os.close(fd)
    tmp = Path(name)
    existed = False
    try:
        fill(tmp)
        _fsync(tmp)
        # Looked at again: minutes may have passed since check(), and the rename must not replace what it refused then.
        old = _existing(target, what, force=force, companions=companions, make_folder=False)
        existed = old is not None
        _set_mode(tmp, old, private=private)
        for suffix in companions:  # only reached with force (else _existing refused): see the module's docstring
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        _put_in_place(tmp, target, what, replace=force)
        _fsync_folder(target.parent)
    except OSError as exc:
        raise _failed(target, what, exc, existed=existed) from None
    finally:
        tmp.unlink(missing_ok=True)
        for suffix in companions:  # what SQLite may have left beside the temporary file
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    return target


def _existing(
    target: Path, what: str, *, force: bool, companions: Sequence[str], make_folder: bool
) -> os.stat_result | None:
    """The target's status if it is a regular file that may be replaced, None if it does not exist; else OutputError."""
    refuse = f"{target}: cannot write the {what}:"
    try:
        st = target.lstat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutputError(f"{refuse} {target.parent} is not a folder") from None
    except OSError as exc:
        raise OutputError(f"{refuse} {exc.strerror or exc}") from None
    if st is None:
        folder = target.parent
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{refuse} {folder} is not a folder")
        if not folder.exists():
            if not make_folder:
                raise OutputError(f"{refuse} the folder {folder} does not exist")
        elif not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(f"{refuse} permission denied in the folder {folder}")
    elif stat.S_ISLNK(st.st_mode):
        raise OutputError(
            f"{refuse} it is a symbolic link (to {os.readlink(target)}); give the file itself or remove the link"
        )
    elif not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{refuse} it is {_kind(st.st_mode)}, not a regular file; give a file name")
    for suffix in companions:  # first: the more telling reason when the file exists too
        beside = Path(f"{target}{suffix}")
        if os.path.lexists(beside) and not force:
            raise OutputError(
                f"{refuse} {beside.name} is beside it (a program has {target.name} open, or had it and stopped); "
                f"close that program, or add --force to replace {target.name} and remove {beside.name}"
            )
    if st is not None and not force:
        raise OutputError(f"{refuse} the file exists; add --force to replace it, or choose another file")
    if st is not None and (not os.access(target, os.W_OK) or not os.access(target.parent, os.W_OK | os.X_OK)):
        raise OutputError(f"{refuse} permission denied")
    return st


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _set_mode(tmp: Path, old: os.stat_result | None, *, private: bool) -> None:
    if old is None:
        os.chmod(tmp, _PRIVATE_MODE if private else 0o666 & ~_umask())
        return
    if os.geteuid() == 0 and (old.st_uid, old.st_gid) != (0, 0):  # root replacing someone's file: still theirs
        os.chown(tmp, old.st_uid, old.st_gid)
    os.chmod(tmp, stat.S_IMODE(old.st_mode))  # after chown, which clears set-id bits


def _put_in_place(tmp: Path, target: Path, what: str, *, replace: bool) -> None:
    if replace:
        os.replace(tmp, target)
        return
    # Without force, a file that appeared at the last moment must not be replaced: link() never overwrites.
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise OutputError(
            f"{target}: cannot write the {what}: the file appeared while it was written; add --force to replace it"
        ) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        os.replace(tmp, target)  # a file system without hard links: the check just before has to do


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; some file systems cannot sync a folder, which is no reason to fail."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _failed(target: Path, what: str, exc: OSError, *, existed: bool) -> OutputError:
    kept = "the previous file was left as it was" if existed or target.exists() else "nothing was written"
    reason = exc.strerror or str(exc)
    return OutputError(f"{target}: cannot write the {what}: {reason}; {kept}")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
