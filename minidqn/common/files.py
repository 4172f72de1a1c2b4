"""Files that must not be half-written or misread: the atomic write, and opening only a regular file.

Every record minidqn keeps (a checkpoint, a rewritten history, run.json, summary.json) is written
with `write_atomically`, so that a kill, a full disk or a Ctrl-C leaves the old file or the new
one, never a mixture. Every file it reads from a folder that could hold anything is opened with
`open_regular`, so that a named pipe or a device planted there cannot block a reader forever.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable


def write_atomically(path: str | os.PathLike, write: Callable) -> None:
    """Call `write(f)` on a binary file that becomes exactly `path`, atomically: `path` holds
    either the previous file or the complete new one, never a mixture, even if the process is
    interrupted or killed while writing (checkpoints, and records rewritten whole).

    1. Write everything to a temporary file of its own in the same folder (so that step 3 is a
       rename within one file system, which POSIX makes atomic; a random name, so that two
       threads or processes saving at once never share one).
    2. Flush Python's buffer and fsync, so the bytes are on the disk, not only in the OS cache.
    3. os.replace the temporary file onto `path`, then fsync the folder so the rename is durable.
    If any step fails (a full disk, a KeyboardInterrupt), the temporary file is removed and the
    error propagates; `path` is untouched. If `path` is a symbolic link, the file it points to is
    replaced and the link kept; an existing file keeps its permissions."""
    path = checked_target(path)  # through a symlink to its file: the rename must not replace the link
    fd, tmp = create_temporary(path)
    try:
        with open(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # a new file keeps the mode the umask gave it
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    # NOTE: BaseException, not Exception: a Ctrl-C arriving mid-write must also remove the
    # half-written temporary file (the file at `path` is safe either way).
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename itself survive a power cut
        folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def create_temporary(path: str) -> tuple[int, str]:
    """(fd, name) of a new, empty file "<path>.<random>.tmp" beside `path`, open for writing;
    created with O_EXCL, so it is never a file somebody else is writing. (A file name near the
    system's limit of 255 bytes is shortened in the temporary name, which must fit too.)"""
    folder, name = os.path.split(path)
    while True:
        tmp = os.path.join(folder, f"{name[:200]}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:  # 2⁴⁸ names: another attempt, not an error
            continue


def checked_target(path: str | os.PathLike, what: str = "path") -> str:
    """The file a checkpoint at `path` is written to (through a symlink, the file it points to),
    or a TypeError or ValueError naming `what` if `path` is no file name in an existing folder."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a str or os.PathLike, got {path!r}")
    name = os.fspath(path)
    if isinstance(name, bytes) or name == "":
        raise ValueError(f"{what} {name!r} is not a file name; give one, like 'runs/agent.npz'")
    if name.endswith((os.sep, "/")) or os.path.isdir(name):
        raise ValueError(f"{what} {name!r} is a folder; give a file name, like 'runs/agent.npz'")
    target = os.path.realpath(name)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise ValueError(f"{what} {name!r}: the folder {folder!r} does not exist")
    return target


def check_writable(path: str | os.PathLike) -> None:
    """ValueError naming `path` unless a checkpoint could be written there now: a file name (not
    a folder) in an existing folder where a temporary file can be created."""
    target, name = checked_target(path, "checkpoint_path"), os.fspath(path)
    try:
        fd, tmp = create_temporary(target)
        os.close(fd)
        os.remove(tmp)
    except OSError as error:
        raise ValueError(f"checkpoint_path {name!r} cannot be written: {error.strerror or error}") from None


def open_regular(path: str | os.PathLike, *args, **kwargs):
    """open(path, ...), unless `path` is a named pipe, a socket or a device (reading one could
    block forever or never end): then a ValueError naming it. A folder or a missing path raise
    open's own OSError."""
    mode = os.stat(path).st_mode if os.path.exists(path) else stat.S_IFREG  # missing: open's own error
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # a folder: open's IsADirectoryError
        raise ValueError(f"{os.fspath(path)} is not a regular file")
    return open(path, *args, **kwargs)
