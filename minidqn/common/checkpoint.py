"""Checkpoints: one .npz archive of named arrays plus a JSON record, written atomically, read without pickle.

This module knows archives, not agents. Whoever holds state turns it into `(meta, arrays)`:
plain JSON values, and NumPy arrays by name (a network, an optimizer, a replay buffer each have
`state()` and `load_state(meta, arrays)`). An agent gathers its parts with `pack`, adds its
config and counters, and calls `write_checkpoint` with its format tag ("minidqn.DQNAgent/6");
`read_checkpoint` gives the contents back, upgraded through the agent's own upgrade functions
from an older version or refused, and `load_parts` hands each part its share. The file is read with
`np.load(..., allow_pickle=False)`, so opening one never runs code; anything that cannot be
trusted raises a `CheckpointError` (a ValueError naming the path and the problem).
docs/checkpoints.md explains what a checkpoint holds, the atomic write, and exact resume.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterator, Mapping

import numpy as np

from minidqn.common.files import write_atomically

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


def non_finite(arrays: Mapping[str, np.ndarray]) -> list[str]:
    """The names of the float arrays that hold a NaN or an infinity: never written, never read."""
    return [name for name, a in arrays.items() if a.dtype.kind in "fc" and not np.isfinite(a).all()]


# --- writing -----------------------------------------------------------------------------------
def write_checkpoint(path: str | os.PathLike, tag: str, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` and the JSON `meta` (with `tag`, such as "minidqn.DQNAgent/6", added as its
    "format") as one .npz at exactly `path`, atomically (`write_atomically`). A diverged state
    (NaN or inf in an array) is refused before anything is written."""
    if _TAG.fullmatch(tag) is None:
        raise ValueError(f"tag must look like 'minidqn.<Agent>/<version>', got {tag!r}")
    meta = {"format": tag, **meta}
    if any(a.dtype.hasobject for a in arrays.values()):
        raise TypeError("checkpoint arrays must not hold Python objects: they would need pickle")
    bad = non_finite(arrays)
    if bad:  # a diverged agent saved "in finally:" must not overwrite the last good checkpoint
        raise ValueError(f"refusing to write {os.fspath(path)}: {', '.join(bad)} hold NaN or inf values; "
                         "the file there is left as it was")
    record = np.array(json.dumps(meta, allow_nan=False))  # NaN or inf is no JSON: a ValueError here
    # A file object, not a name: np.savez would append ".npz" to a name.
    write_atomically(path, lambda f: np.savez(f, meta=record, **arrays))


# --- reading -----------------------------------------------------------------------------------
def read_checkpoint(path: str | os.PathLike, kind: str, version: int, upgrades: Mapping[int, Upgrade] | None = None,
                    why_not: Mapping[int, str] | None = None) -> tuple[dict, dict[str, np.ndarray]]:
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


def kind_of(path: str | os.PathLike) -> str:
    """The class a checkpoint holds ("DQNAgent", "GreedyPolicy", ...), or a CheckpointError."""
    meta, _ = _read_archive(path, "minidqn")
    match = _TAG.fullmatch(str(meta.get("format"))) if isinstance(meta, dict) else None
    if match is None:
        raise refuse(path, "minidqn", "it has no minidqn format tag")
    return match[1]


def _read_archive(path: str | os.PathLike, kind: str) -> tuple[object, dict[str, np.ndarray]]:
    """The decoded JSON record and the arrays of an .npz at `path`, or a CheckpointError."""
    mode = os.stat(path).st_mode  # a folder keeps open's IsADirectoryError; a named pipe would block forever
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise refuse(path, kind, "it is not a regular file")
    with open(path, "rb") as f:  # outside the try: a missing or unreadable path keeps its OSError
        head = f.read(len(_ZIP_MAGIC))
        f.seek(0)
        try:
            problem = _inspect_members(f) if head == _ZIP_MAGIC else None
            if problem is not None:
                raise refuse(path, kind, problem)
            f.seek(0)
            data = np.load(f, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise refuse(path, kind, "it is a single .npy array, not an .npz archive")
            with data:
                arrays = {name: data[name] for name in data.files}
            if not all(isinstance(value, np.ndarray) for value in arrays.values()):
                raise refuse(path, kind, "it is a zip archive, but not an .npz of arrays")
        except CheckpointError:
            raise
        # NOTE: zipfile, zlib and NumPy's .npy reader raise a dozen exception types for a damaged
        # file (BadZipFile, EOFError, OSError, ...); all mean the same here: one CheckpointError.
        except Exception as error:  # noqa: BLE001
            if head != _ZIP_MAGIC:
                raise refuse(path, kind, "it is empty" if not head else "it is not an .npz (zip) archive") from None
            raise refuse(path, kind, f"it is truncated or corrupted ({type(error).__name__}: {error})") from None
    bad = non_finite(arrays)
    if bad:
        raise refuse(path, kind, f"{', '.join(bad)} hold NaN or inf values")
    raw = arrays.pop("meta", None)
    if raw is None or raw.ndim != 0 or raw.dtype.kind != "U":
        raise refuse(path, kind, f"it is not a minidqn checkpoint (no 'meta' record; it holds {sorted(arrays)})")
    try:
        return json.loads(str(raw)), arrays
    except (ValueError, RecursionError) as error:  # RecursionError: JSON nested thousands deep
        raise refuse(path, kind, f"its 'meta' record is not valid JSON ({type(error).__name__})") from None


_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def _inspect_members(f) -> str | None:
    """Why the zip archive in `f` is not one that np.savez wrote, or None, judged from its
    directory and each member's .npy header alone, before any array is read.

    np.savez stores members uncompressed, so a member's size on disk is its size in memory. So
    refused are: a compressed member (a small file could inflate into gigabytes); a header whose
    shape and dtype need more bytes than its member holds (NumPy would allocate the whole shape
    before finding the data missing); members claiming more bytes than the file has (a directory
    listing one member's bytes many times over)."""
    size = f.seek(0, os.SEEK_END)
    f.seek(0)
    with zipfile.ZipFile(f) as archive:
        claimed = sum(info.file_size for info in archive.infolist())
        if claimed > size:
            return (f"its members claim {claimed:,} bytes in a file of {size:,}: they overlap, and minidqn "
                    "never writes overlapping members")
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED:
                return f"its member {info.filename!r} is compressed, and minidqn never writes compressed members"
            if not info.filename.endswith(".npy"):
                return f"it is a zip archive, but not an .npz of arrays ({info.filename!r} is not a .npy member)"
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = _NPY_HEADERS.get(version)
                if read_header is None:
                    return f"its member {info.filename!r} is .npy format {version}, which minidqn never writes"
                shape, _, dtype = read_header(member)
                needed = math.prod(shape) * dtype.itemsize + member.tell()
            if dtype.hasobject or needed > info.file_size:
                return (f"its member {info.filename!r} declares a {dtype} array of shape {shape} "
                        f"that its {info.file_size:,} bytes cannot hold")
    return None


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
    # NOTE: any other error here comes from contents the code was not written to expect (a list
    # where a dict belongs, a size too large to allocate): to the user, this file cannot be loaded.
    except Exception as error:  # noqa: BLE001
        raise refuse(path, kind, f"invalid contents ({type(error).__name__}: {error})") from None

