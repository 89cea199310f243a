"""Writing an export file whole or not at all: into a temporary file beside the target, then renamed over it.

A failed or interrupted export leaves the previous file (or nothing) in place, never half a workbook. Errors become one
TrainerError naming the file, which the CLI prints on one line.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from trainer.errors import TrainerError


def check_writable(path: str | os.PathLike[str], what: str) -> Path:
    """Fail early (before minutes of work) when `path` cannot be written: its folder is missing or read-only, or it is a
    folder itself. The real write can still fail (a full disk); write_atomically() reports that the same way."""
    target = Path(path).expanduser()
    folder = target.parent
    reason = None
    if target.is_dir():
        reason = "it is a folder"
    elif not folder.is_dir():
        reason = f"the folder {folder} does not exist"
    elif not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        reason = "permission denied"
    if reason:
        raise TrainerError(f"{target}: cannot write the {what}: {reason}")
    return target


def write_atomically(path: str | os.PathLike[str], write: Callable[[Path], None], what: str) -> Path:
    """Call `write(tmp)` to fill a temporary file beside `path`, then rename it to `path`; return `path`."""
    target = Path(path).expanduser()
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise TrainerError(f"{target}: cannot write the {what}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it the permissions of any new file
        os.replace(tmp, target)
    except OSError as exc:
        raise TrainerError(f"{target}: cannot write the {what}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
