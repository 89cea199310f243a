"""Is a session's owner still running? That is what separates "in progress" from "interrupted".

An in-progress session belongs to the process that created or claimed it (host name + pid). On the same host we ask the
operating system whether that pid is alive. For another host we cannot, so we trust its heartbeat (refreshed by every append
and by Store.heartbeat()): silent for longer than HEARTBEAT_TIMEOUT means gone.

Known limits: a pid reused by an unrelated process after a crash makes the session look alive until that process ends; two
machines with the same host name are taken for one.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

HEARTBEAT_TIMEOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int

    @classmethod
    def this_process(cls) -> Owner:
        return cls(host=socket.gethostname(), pid=os.getpid())


def owner_alive(owner: Owner, heartbeat_at: datetime, now: datetime) -> bool:
    if not owner.host:  # released on a clean quit: nobody runs it
        return False
    here = Owner.this_process()
    if owner == here:
        return True
    if owner.host == here.host:
        return pid_alive(owner.pid)
    return now - heartbeat_at <= HEARTBEAT_TIMEOUT


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, it is just not ours
    return True


def _windows_pid_alive(pid: int) -> bool:
    # os.kill(pid, 0) would *terminate* the process on Windows; ask for a handle and its exit code instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    process_query_limited_information, still_active = 0x1000, 259
    handle = kernel32.OpenProcess(process_query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == still_active
    finally:
        kernel32.CloseHandle(handle)
