"""A run folder's files: which they are, where a new run may be written, and how an old run is replaced.

`train` writes a new run into a folder of its own (`check_out_folder`). With `--overwrite`, the
run already there is set aside, not deleted (`set_aside`): its files move into `.replaced/` in the
same folder, by renames that cannot half-happen. If the new run fails before it has written a
checkpoint of its own, the old run is put back (`put_back`); once the new run has one, or ends, the
old one is removed. A kill in between leaves both, never neither. A run never writes through a
symbolic link planted where its files belong (`refuse_links`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from minidqn.cli.folder_lock import LOCK_NAME
from minidqn.common.files import write_atomically

REPLACED = ".replaced"  # where --overwrite sets the old run aside until the new one has started


RUN_FILES = ("run.json", "agent.npz", "policy.npz", "history.csv", "evaluations.csv", "learning_curve.png",
             "summary.json", "tensorboard")  # what a run folder holds (tensorboard/: event files, with the sweep extra)


def check_out_folder(out: Path, overwrite: bool) -> Path:
    """`out` if a new run may be written there: a folder of its own, not the current folder, not a
    file, and holding no run unless `overwrite`; a ValueError naming `--out` otherwise."""
    if str(out) in ("", ".") or out.resolve() == Path.cwd().resolve() or out.resolve() == Path(out.anchor or "/"):
        raise ValueError(f"--out {str(out)!r} is not a run folder of its own; name one, like runs/cartpole")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    if out.exists() and not os.access(out, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out} is a folder this user cannot write to")
    held = [name for name in RUN_FILES if os.path.lexists(out / name)]  # lexists: a dangling link counts
    if held and not overwrite:
        raise ValueError(f"--out {out} holds a run already ({', '.join(held)}); pass --overwrite to replace it, "
                         f"or `minidqn resume {out} --steps N` to train it on")
    return out


def refuse_link(path: Path) -> None:
    """ValueError if `path`, a file about to be written, is a symbolic link: it is never followed."""
    if path.is_symlink():
        raise ValueError(f"{path} is a symbolic link; minidqn never writes through one: remove it, or name another file")


def refuse_links(folder: Path) -> None:
    """ValueError if any file a run writes in `folder` is a symbolic link: a run writes its own files
    and never follows a link planted there onto a file elsewhere."""
    links = [name for name in (*RUN_FILES, LOCK_NAME) if (folder / name).is_symlink()]
    if links:
        raise ValueError(f"{folder} holds symbolic links where its run's files belong ({', '.join(links)}); "
                         "a run never writes through a link: replace them with the files themselves")


def write_json(path: Path, value: dict) -> None:
    """`value` as indented JSON at `path`, replacing the file whole or not at all."""
    text = json.dumps(value, indent=1) + "\n"
    write_atomically(path, lambda f: f.write(text.encode()))


def set_aside(out: Path) -> Path | None:
    """Move the run files in `out` into out/.replaced (emptied first), and return that folder; None
    if `out` holds none. Each move is a rename within the folder: atomic, and never a copy."""
    held = [name for name in RUN_FILES if os.path.lexists(out / name)]
    if not held:
        return None
    aside = out / REPLACED
    if aside.is_symlink():  # planted: removed as a link, never followed into
        aside.unlink()
    shutil.rmtree(aside, ignore_errors=True)  # a run set aside by an overwrite that was killed
    aside.mkdir()
    for name in held:
        os.replace(out / name, aside / name)  # a symbolic link is moved as a link, never followed
    return aside


def put_back(out: Path, aside: Path) -> None:
    """Undo `set_aside`: the new run's files in `out` are removed and the old run's moved back."""
    for name in RUN_FILES:
        remove(out / name)
    for path in aside.iterdir():
        os.replace(path, out / path.name)
    aside.rmdir()


def remove(path: Path) -> None:
    """Remove the file, link or folder at `path`, if there is one (a link itself, never what it points to)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
