"""One writer per run folder: a lock that names its holder and that a crashed holder cannot leave behind.

`train` and `resume` write a run folder for minutes or hours. Two of them in one folder would
interleave their records and overwrite each other's checkpoints, so each holds the folder's lock
file, `.lock`, while it runs:

1. open (or create) `.lock`, never through a symbolic link;
2. ask the operating system for an exclusive lock on it without waiting (`fcntl.flock` on POSIX,
   `msvcrt.locking` on Windows); if another process holds it, read who that is from the file
   and refuse, naming them;
3. once held, write who holds it (process id, machine, command, start time) into the file.

The operating system releases the lock when its holder exits, however it exits: a process killed
by SIGKILL or a power cut leaves the file, naming a holder that is gone, but no lock on it. The
next writer takes it over and says so: a stale lock is detected, never trusted forever. The file
itself stays (removing it while another process waits on it would let two writers in).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with FolderLock(folder, "minidqn train"):
    ...     FolderLock(folder, "minidqn resume").acquire()
    Traceback (most recent call last):
    ...
    minidqn.cli.folder_lock.FolderInUse: ... is in use by another minidqn process ...
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover  (the tests run on POSIX)
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        """True if this process now holds the exclusive lock on `fd`; False if another holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

LOCK_NAME = ".lock"


class FolderInUse(ValueError):
    """Another process holds the run folder's lock; the message names it."""


class FolderLock:
    """The lock of the run folder `folder`, held by `command` from `acquire()` (or `with`) until
    `release()`; the operating system releases it if the process dies first."""

    def __init__(self, folder: str | os.PathLike, command: str):
        self.path, self.command, self.fd = Path(folder) / LOCK_NAME, command, None
        self.previous: dict | None = None  # the holder a crash left named in the file, if any

    def acquire(self) -> FolderLock:
        # NOTE: O_NOFOLLOW: a `.lock` planted as a symbolic link must not send the holder's
        # details (or a truncation) to the file it points to.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        if not _try_lock(fd):
            holder = _read_holder(fd)
            os.close(fd)
            raise FolderInUse(f"{self.path.parent} is in use by another minidqn process ({describe(holder)}); "
                              "wait for it to end, or stop it, before writing this folder")
        self.previous = _read_holder(fd) or None  # left by a holder that died without releasing
        now = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command, "since": now}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        """Give the lock back: the file is emptied (no holder named), then closed, which unlocks it."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)
            self.fd = None

    def __enter__(self):  # the lock itself, held, for `with FolderLock(folder, command):`
        return self.acquire()

    def __exit__(self, *error) -> None:
        self.release()


def _read_holder(fd: int) -> dict:
    """The holder written in the lock file open at `fd` ({} if none, or if the file is not one)."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
    except (ValueError, OSError):
        return {}
    return holder if isinstance(holder, dict) else {}


def describe(holder: dict) -> str:
    """'pid 123 on host, `minidqn train ...` since 2026-12-06 16:50:00 UTC', from what the file holds."""
    if not holder:
        return "it has not yet written who it is"
    return (f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, `{holder.get('command', '?')}` "
            f"since {holder.get('since', '?')}")
