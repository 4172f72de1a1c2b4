"""Checkpoints: one .npz archive of named arrays plus a JSON record, written atomically, read without pickle.

This module knows archives, not agents. Whoever holds state turns it into `(meta, arrays)`:
plain JSON values, and NumPy arrays by name (a network, an optimizer, a replay buffer each have
`state()` and `load_state(meta, arrays)`). An agent gathers its parts with `pack`, adds its
config and counters, and calls `write_checkpoint` with its format tag ("minidqn.DQNAgent/4");
`read_checkpoint` gives the contents back, upgraded through the agent's own upgrade functions
from an older version or refused, and `load_parts` hands each part its share. The file is read with
`np.load(..., allow_pickle=False)`, so opening one never runs code; anything that cannot be
trusted raises a `CheckpointError` (a ValueError naming the path and the problem).
docs/checkpoints.md explains what a checkpoint holds, the atomic write, and exact resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields

import numpy as np

_TAG = re.compile(r"minidqn\.(\w+)/(\d+)")  # "minidqn.<agent class>/<version>"
_ZIP_MAGIC = b"PK\x03\x04"  # the first bytes of every zip archive, hence of every .npz

# An upgrade turns (meta, arrays) of version v into those of version v + 1.
Upgrade = Callable[[dict, dict], tuple[dict, dict]]


class CheckpointError(ValueError):
    """A file that cannot be loaded as the checkpoint asked for; the message says why."""


def refuse(path: str | os.PathLike, kind: str, reason: str) -> CheckpointError:
    return CheckpointError(f"{os.fspath(path)} is not a readable {kind} checkpoint: {reason}")


# --- state of parts ----------------------------------------------------------------------------
def pack(parts: Mapping[str, tuple[dict, dict[str, np.ndarray]]]) -> tuple[dict, dict[str, np.ndarray]]:
    """One (meta, arrays) from the `state()` of each named part: part p's metadata under
    meta[p], its array a under the name "p.a"."""
    meta = {name: part_meta for name, (part_meta, _) in parts.items()}
    arrays = {f"{name}.{key}": array for name, (_, part_arrays) in parts.items() for key, array in part_arrays.items()}
    return meta, arrays


def load_parts(parts: Mapping[str, object], meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Hand each named part the share of (meta, arrays) that `pack` stored for it, through its
    `load_state`; a missing array or a part's refusal raises an error that names the part."""
    for name, part in parts.items():
        prefix = f"{name}."
        mine = {key[len(prefix):]: array for key, array in arrays.items() if key.startswith(prefix)}
        try:
            part.load_state(meta[name], mine)
        except KeyError as error:
            raise KeyError(f"{prefix}{error.args[0]}") from None
        except (TypeError, ValueError) as error:
            raise type(error)(f"{name}: {error}") from None


# --- writing -----------------------------------------------------------------------------------
def write_checkpoint(path: str | os.PathLike, tag: str, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` and the JSON `meta` (with `tag`, such as "minidqn.DQNAgent/4", added as its
    "format") as one .npz at exactly `path`, atomically: `path` holds either the previous file or
    the complete new one, never a mixture, even if the process is interrupted or killed while
    writing.

    1. Write everything to a temporary file in the same folder (so that step 3 is a rename within
       one file system, which POSIX makes atomic).
    2. Flush Python's buffer and fsync, so the bytes are on the disk, not only in the OS cache.
    3. os.replace the temporary file onto `path`, then fsync the folder so the rename is durable.
    If any step fails (a full disk, a KeyboardInterrupt), the temporary file is removed and the
    error propagates; `path` is untouched.
    """
    if _TAG.fullmatch(tag) is None:
        raise ValueError(f"tag must look like 'minidqn.<Agent>/<version>', got {tag!r}")
    meta = {"format": tag, **meta}
    if any(a.dtype.hasobject for a in arrays.values()):
        raise TypeError("checkpoint arrays must not hold Python objects: they would need pickle")
    path = os.fspath(path)
    tmp = f"{path}.{os.getpid()}.tmp"  # the pid keeps two processes from sharing a temporary name
    try:
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a name
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    # NOTE: BaseException, not Exception: a Ctrl-C arriving mid-write must also remove the
    # half-written temporary file (the checkpoint at `path` is safe either way).
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


# --- reading -----------------------------------------------------------------------------------
def read_checkpoint(
    path: str | os.PathLike,
    kind: str,
    version: int,
    upgrades: Mapping[int, Upgrade] | None = None,
    why_not: Mapping[int, str] | None = None,
) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a `kind` checkpoint in format `version`, read fully into memory.

    An older version v is read through upgrades[v], upgrades[v + 1], ... up to `version`; a
    version with no such path is refused with why_not[v] (or "a different minidqn release"). A
    file that is not such a checkpoint raises a CheckpointError; a missing file FileNotFoundError.
    """
    upgrades, why_not = upgrades or {}, why_not or {}
    meta, arrays = _read_archive(path, kind)
    match = _TAG.fullmatch(str(meta.get("format"))) if isinstance(meta, dict) else None
    if match is None:
        raise refuse(path, kind, "it is not a minidqn checkpoint (no minidqn format tag)")
    saved_kind, saved = match[1], int(match[2])
    if saved_kind != kind:
        raise refuse(path, kind, f"it holds a {saved_kind} (load it with {saved_kind}.load)")
    if not all(v in upgrades for v in range(saved, version)) or saved > version:
        why = why_not.get(saved, "it was written by a different minidqn release")
        readable = sorted(v for v in range(1, version) if all(u in upgrades for u in range(v, version)))
        raise refuse(path, kind, f"it is format version {saved}, and this minidqn reads versions "
                                 f"{', '.join(map(str, [*readable, version]))}: {why}")
    with refusing(path, kind):
        for v in range(saved, version):
            meta, arrays = upgrades[v](meta, arrays)
    return meta, arrays


def _read_archive(path: str | os.PathLike, kind: str) -> tuple[object, dict[str, np.ndarray]]:
    """The decoded JSON record and the arrays of an .npz at `path`, or a CheckpointError."""
    with open(path, "rb") as f:  # outside the try: a missing or unreadable path keeps its OSError
        head = f.read(len(_ZIP_MAGIC))
        f.seek(0)
        try:
            data = np.load(f, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise refuse(path, kind, "it is a single .npy array, not an .npz archive")
            with data:
                arrays = {name: data[name] for name in data.files}
            if not all(isinstance(value, np.ndarray) for value in arrays.values()):
                raise refuse(path, kind, "it is a zip archive, but not an .npz of arrays")
        except CheckpointError:
            raise
        # NOTE: zipfile, zlib and NumPy's .npy reader raise a dozen different exception types
        # for a damaged file (BadZipFile, EOFError, ValueError, OSError, tokenize errors, ...).
        # All of them mean the same thing here, so all become one clear CheckpointError.
        except Exception as error:  # noqa: BLE001
            if head != _ZIP_MAGIC:
                raise refuse(path, kind, "it is empty" if not head else "it is not an .npz (zip) archive") from None
            raise refuse(path, kind, f"it is truncated or corrupted ({type(error).__name__}: {error})") from None
    raw = arrays.pop("meta", None)
    if raw is None or raw.ndim != 0 or raw.dtype.kind != "U":
        raise refuse(path, kind, f"it is not a minidqn checkpoint (no 'meta' record; it holds {sorted(arrays)})")
    try:
        return json.loads(str(raw)), arrays
    except ValueError as error:
        raise refuse(path, kind, f"its 'meta' record is not valid JSON ({error})") from None


@contextlib.contextmanager
def refusing(path: str | os.PathLike, kind: str) -> Iterator[None]:
    """Turn any KeyError, TypeError or ValueError met while rebuilding an agent from a file's
    contents (a missing field or array, a value out of range, a malformed generator state) into
    a CheckpointError that names the file."""
    try:
        yield
    except CheckpointError:
        raise
    except KeyError as error:
        raise refuse(path, kind, f"{error} missing") from None
    except (TypeError, ValueError) as error:
        raise refuse(path, kind, f"invalid contents ({error})") from None


def config_from_dict(config_class: type, saved: dict):
    """The config dataclass rebuilt from its saved fields; every field must be there, so a
    checkpoint never quietly picks up a default that has changed since it was written."""
    names = {f.name for f in fields(config_class)}
    got = set(saved) if isinstance(saved, dict) else set()
    if got != names:
        raise ValueError(f"the saved {config_class.__name__} lacks {sorted(names - got)}, "
                         f"has unknown fields {sorted(got - names)}")
    return config_class(**saved)
