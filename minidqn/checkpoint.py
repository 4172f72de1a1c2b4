"""Checkpoints: the one place agents are written to and read from disk, atomically and without pickle.

A checkpoint is one .npz archive: NumPy arrays by name, plus `meta`, a JSON string holding the
format tag ("minidqn.DQNAgent/3"), the config, the counters and the random generators' states.
It is read with `np.load(..., allow_pickle=False)`, so opening one never runs code. Loading builds
a new agent, fills it completely and only then returns it; a file it cannot trust raises a
`CheckpointError` (a ValueError naming the path and the problem). The divergence guard lives here
too: a checkpoint is only written when every parameter is finite, so the last one stays good.
docs/checkpoints.md explains what a checkpoint holds, the atomic write, and exact resume.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, fields
from typing import TYPE_CHECKING

import numpy as np

from minidqn.discretizer import Discretizer
from minidqn.validation import is_int, is_real

if TYPE_CHECKING:
    from minidqn.dqn import DQNAgent
    from minidqn.tabular import QLearningAgent

# The format version each agent writes. Bump it when the contents change; an older version is
# read only through an upgrade to the current one, and otherwise refused, saying why.
VERSIONS = {"DQNAgent": 3, "QLearningAgent": 1}
OLDER = {  # why an older version cannot be read, shown when one is refused
    ("DQNAgent", 1): "version 1 held only the two networks (no optimizer state, counters, replay "
                     "buffer or random generators), so training could not continue exactly from it",
}


def _dqn_2_to_3(meta: dict) -> dict:
    """Version 3 added DQNConfig.dueling; every version-2 agent had the plain Q head."""
    if isinstance(meta.get("config"), dict):
        meta["config"].setdefault("dueling", False)
    return meta


UPGRADES = {("DQNAgent", 2): _dqn_2_to_3}  # (agent, old version) -> meta in the current version
_TAG = re.compile(r"minidqn\.(\w+)/(\d+)")  # "minidqn.<agent class>/<version>"
_ZIP_MAGIC = b"PK\x03\x04"  # the first bytes of every zip archive, hence of every .npz


class CheckpointError(ValueError):
    """A file that cannot be loaded as the checkpoint asked for; the message says why."""


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite TD loss or parameter; the message says when and what to try."""


def _refuse(path: str | os.PathLike, kind: str, reason: str) -> CheckpointError:
    return CheckpointError(f"{os.fspath(path)} is not a readable {kind} checkpoint: {reason}")


# --- writing -----------------------------------------------------------------------------------
def write_checkpoint(path: str | os.PathLike, kind: str, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` and the JSON `meta` (with the format tag added) as one .npz at exactly
    `path`, atomically: `path` holds either the previous file or the complete new one, never a
    mixture, even if the process is interrupted or killed while writing.

    1. Write everything to a temporary file in the same folder (so that step 3 is a rename within
       one file system, which POSIX makes atomic).
    2. Flush Python's buffer and fsync, so the bytes are on the disk, not only in the OS cache.
    3. os.replace the temporary file onto `path`, then fsync the folder so the rename is durable.
    If any step fails (a full disk, a KeyboardInterrupt), the temporary file is removed and the
    error propagates; `path` is untouched.
    """
    meta = {"format": f"minidqn.{kind}/{VERSIONS[kind]}", **meta}
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


def check_arguments(path: str | os.PathLike | None, every: int | None) -> None:
    """ValueError now, rather than hours into a run, for train()'s checkpoint_path and
    checkpoint_every if a checkpoint could not be written as asked."""
    if every is not None and not (is_int(every) and every >= 1):
        raise ValueError(f"checkpoint_every must be a positive integer (env steps) or None, got {every!r}")
    if every is not None and path is None:
        raise ValueError("checkpoint_every needs a checkpoint_path to write to")
    if path is None:
        return
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"checkpoint_path must be a str or os.PathLike, got {path!r}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"checkpoint_path {os.fspath(path)!r}: the folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"checkpoint_path {os.fspath(path)!r} is a folder; give a file name")


# --- the divergence guard ----------------------------------------------------------------------
def save_if_finite(agent: DQNAgent, path: str | os.PathLike | None) -> None:
    """Save `agent` at `path` (if not None), but first raise a DivergenceError if any weight or
    Adam moment is NaN or infinite: a checkpoint never holds a diverged agent, so the last one
    written stays good. The check scans every parameter: run it at checkpoints, not every step."""
    arrays = (agent.online.flat_params, agent.target.flat_params, *agent.optimizer.m, *agent.optimizer.v)
    if not all(np.isfinite(a).all() for a in arrays):
        raise diverged(agent, "a network parameter or an Adam moment is NaN or infinite", path)
    if path is not None:
        save_dqn(agent, path)


def diverged(agent: DQNAgent, what: str, path: str | os.PathLike | None) -> DivergenceError:
    """The error that stops a diverged run: when, what went wrong, what to try, what was kept."""
    c = agent.config
    kept = ("No checkpoint was written (pass checkpoint_path and checkpoint_every to keep one)."
            if path is None or not os.path.exists(path) else
            f"The last good checkpoint, {os.fspath(path)}, is left as it was.")
    return DivergenceError(
        f"training diverged at env step {agent.num_steps:,} (gradient step {agent.num_updates:,}): {what}. "
        f"Try a lower lr (now {c.lr:g}), gradient clipping with max_grad_norm (now {c.max_grad_norm}), "
        f"or the Huber loss, loss='huber' (now {c.loss!r}). {kept}")


# --- reading -----------------------------------------------------------------------------------
def read_checkpoint(path: str | os.PathLike, kind: str, names: Iterable[str]) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a `kind` checkpoint holding at least the arrays `names`, read fully into
    memory; a CheckpointError for anything else. A missing file raises FileNotFoundError."""
    with open(path, "rb") as f:  # outside the try: a missing or unreadable path keeps its OSError
        head = f.read(len(_ZIP_MAGIC))
        f.seek(0)
        try:
            data = np.load(f, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise _refuse(path, kind, "it is a single .npy array, not an .npz archive")
            with data:
                arrays = {name: data[name] for name in data.files}
            if not all(isinstance(value, np.ndarray) for value in arrays.values()):
                raise _refuse(path, kind, "it is a zip archive, but not an .npz of arrays")
        except CheckpointError:
            raise
        # NOTE: zipfile, zlib and NumPy's .npy reader raise a dozen different exception types
        # for a damaged file (BadZipFile, EOFError, ValueError, OSError, tokenize errors, ...).
        # All of them mean the same thing here, so all become one clear CheckpointError.
        except Exception as error:  # noqa: BLE001
            if head != _ZIP_MAGIC:
                raise _refuse(path, kind, "it is empty" if not head else "it is not an .npz (zip) archive") from None
            raise _refuse(path, kind, f"it is truncated or corrupted ({type(error).__name__}: {error})") from None

    raw = arrays.pop("meta", None)
    if raw is None or raw.ndim != 0 or raw.dtype.kind != "U":
        raise _refuse(path, kind, f"it is not a minidqn checkpoint (no 'meta' record; it holds {sorted(arrays)})")
    try:
        meta = json.loads(str(raw))
    except ValueError as error:
        raise _refuse(path, kind, f"its 'meta' record is not valid JSON ({error})") from None
    match = _TAG.fullmatch(str(meta.get("format"))) if isinstance(meta, dict) else None
    if match is None:
        raise _refuse(path, kind, "it is not a minidqn checkpoint (no minidqn format tag)")
    saved_kind, version = match[1], int(match[2])
    if saved_kind != kind:
        raise _refuse(path, kind, f"it holds a {saved_kind} (load it with {saved_kind}.load)")
    if version != VERSIONS[kind]:
        upgrade = UPGRADES.get((kind, version))
        if upgrade is None:
            why = OLDER.get((kind, version), "it was written by a different minidqn release")
            readable = [v for k, v in UPGRADES if k == kind] + [VERSIONS[kind]]
            raise _refuse(path, kind, f"it is format version {version}, and this minidqn reads versions "
                                     f"{', '.join(map(str, readable))}: {why}")
        meta = upgrade(meta)
    missing = sorted(set(names) - set(arrays))
    if missing:
        raise _refuse(path, kind, f"arrays missing: {', '.join(missing)}")
    return meta, arrays


@contextlib.contextmanager
def _refusing(path: str | os.PathLike, kind: str) -> Iterator[None]:
    """Turn any KeyError, TypeError or ValueError met while rebuilding an agent from a file's
    contents (a missing field, a config value out of range, a malformed generator state) into a
    CheckpointError that names the file."""
    try:
        yield
    except CheckpointError:
        raise
    except KeyError as error:
        raise _refuse(path, kind, f"field {error} missing from its meta record") from None
    except (TypeError, ValueError) as error:
        raise _refuse(path, kind, f"invalid contents ({error})") from None


def _config(config_class: type, saved: dict):
    """The config rebuilt from its saved fields; every field must be there, so a checkpoint never
    quietly picks up a default that has changed since it was written."""
    names = {f.name for f in fields(config_class)}
    got = set(saved) if isinstance(saved, dict) else set()
    if got != names:
        raise ValueError(f"the saved {config_class.__name__} lacks {sorted(names - got)}, "
                         f"has unknown fields {sorted(got - names)}")
    return config_class(**saved)


def _expect(path: str | os.PathLike, kind: str, array: np.ndarray, name: str, shape: tuple, dtype) -> np.ndarray:
    if array.shape != shape or array.dtype != dtype:
        raise _refuse(path, kind, f"array {name!r} is {array.dtype} {array.shape}, "
                                  f"the agent needs {np.dtype(dtype)} {shape}")
    return array


def _count(meta: dict, name: str, minimum: int = 0) -> int:
    if not (is_int(meta[name]) and meta[name] >= minimum):
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {meta[name]!r}")
    return meta[name]


def _positive(meta: dict, name: str) -> float:
    if not (is_real(meta[name]) and meta[name] > 0):
        raise ValueError(f"{name} must be a number > 0, got {meta[name]!r}")
    return meta[name]


# --- the DQN agent ---------------------------------------------------------------------------
def save_dqn(agent: DQNAgent, path: str | os.PathLike) -> None:
    """Everything a DQNAgent needs to continue training exactly where it stopped."""
    D, buffer = agent.obs_dim, agent.buffer
    replay = buffer.rows().reshape(len(buffer), 2 * D + 3)  # (n, 2D+3), oldest first
    meta = {
        "obs_dim": D, "n_actions": agent.n_actions, "config": asdict(agent.config), "seed": agent.seed,
        "num_steps": agent.num_steps, "num_updates": agent.num_updates,
        "num_episodes": agent.num_episodes, "horizon": agent.horizon,
        "adam_t": agent.optimizer.t, "adam_lr": agent.optimizer.lr, "replay_obs_dim": buffer.obs_dim,
        # PCG64's state is two 128-bit integers: JSON writes Python ints of any size exactly.
        "rng_states": {"act": agent.rng.bit_generator.state, "replay": agent.replay_rng.bit_generator.state,
                       "env": agent.env_rng.bit_generator.state},
    }
    arrays = {"online": agent.online.flat_params, "target": agent.target.flat_params,
              "adam_m": agent.optimizer.m[0], "adam_v": agent.optimizer.v[0], "replay": replay}
    write_checkpoint(path, "DQNAgent", meta, arrays)


def load_dqn(cls: type[DQNAgent], path: str | os.PathLike) -> DQNAgent:
    """A new `cls` agent in exactly the state `save_dqn` wrote, or a CheckpointError."""
    # Imported here: minidqn.dqn imports this module, and gymnasium is needed only to load.
    from gymnasium import spaces

    from minidqn.dqn import DQNConfig

    kind = "DQNAgent"
    meta, arrays = read_checkpoint(path, kind, ("online", "target", "adam_m", "adam_v", "replay"))
    with _refusing(path, kind):
        config = _config(DQNConfig, meta["config"])
        D, A = _count(meta, "obs_dim", 1), _count(meta, "n_actions", 1)
        obs_space = spaces.Box(-np.inf, np.inf, (D,), np.float32)
        agent = cls(obs_space, spaces.Discrete(A), config, seed=meta["seed"])
        P, dtype = (agent.online.num_params,), agent.dtype
        for name, vector in (("online", agent.online.flat_params), ("target", agent.target.flat_params),
                             ("adam_m", agent.optimizer.m[0]), ("adam_v", agent.optimizer.v[0])):
            vector[:] = _expect(path, kind, arrays[name], name, P, dtype)
        replay = arrays["replay"]  # (n, 2D + 3), oldest transition first
        width, n = 2 * D + 3, len(replay) if replay.ndim == 2 else 0
        _expect(path, kind, replay, "replay", (min(n, config.buffer_size), width), dtype)
        if meta["replay_obs_dim"] != (D if n > 0 else None):
            raise ValueError(f"replay_obs_dim {meta['replay_obs_dim']!r} does not fit {n} rows of size {width}")
        agent.buffer.obs_dim = meta["replay_obs_dim"]
        agent.buffer.extend(replay)  # the rows, oldest first
        agent.num_steps, agent.num_updates = _count(meta, "num_steps"), _count(meta, "num_updates")
        agent.num_episodes = _count(meta, "num_episodes")
        agent.horizon = None if meta["horizon"] is None else _count(meta, "horizon", 1)
        agent.schedule = agent._make_schedule()  # the ε schedule's time scale comes from horizon
        agent.optimizer.t, agent.optimizer.lr = _count(meta, "adam_t"), _positive(meta, "adam_lr")
        states = meta["rng_states"]
        for rng, name in ((agent.rng, "act"), (agent.replay_rng, "replay"), (agent.env_rng, "env")):
            rng.bit_generator.state = states[name]
    return agent


# --- the tabular agent -------------------------------------------------------------------------
def save_q_learning(agent: QLearningAgent, path: str | os.PathLike) -> None:
    """The Q-table, config, counters, generator state and (if any) the Discretizer's grid."""
    meta = {"config": asdict(agent.config), "episodes_done": agent.episodes_done,
            "env_steps": agent.env_steps, "rng_state": agent.rng.bit_generator.state}
    arrays = {"q": agent.q}
    if agent.discretizer is not None:
        d = agent.discretizer
        arrays.update(low=d.low, high=d.high, bins=d.bins)
    write_checkpoint(path, "QLearningAgent", meta, arrays)


def load_q_learning(cls: type[QLearningAgent], path: str | os.PathLike) -> QLearningAgent:
    """A new `cls` agent in exactly the state `save_q_learning` wrote, or a CheckpointError."""
    # Imported here: minidqn.tabular imports this module, and gymnasium is needed only to load.
    from gymnasium import spaces

    from minidqn.tabular import QLearningConfig

    kind = "QLearningAgent"
    meta, arrays = read_checkpoint(path, kind, ("q",))
    with _refusing(path, kind):
        config = _config(QLearningConfig, meta["config"])
        q = arrays["q"]  # (S, A)
        if q.ndim != 2 or q.dtype != np.float64 or 0 in q.shape:
            raise _refuse(path, kind, f"array 'q' is {q.dtype} {q.shape}, not a float64 (S, A) table")
        discretizer = None
        if "bins" in arrays:
            discretizer = Discretizer(arrays["low"], arrays["high"], arrays["bins"])
            observation_space = spaces.Box(-np.inf, np.inf, shape=discretizer.low.shape)
        else:
            observation_space = spaces.Discrete(q.shape[0])
        agent = cls(observation_space, spaces.Discrete(q.shape[1]), config, discretizer=discretizer)
        _expect(path, kind, q, "q", agent.q.shape, np.float64)
        agent.q[:] = q
        agent.episodes_done, agent.env_steps = _count(meta, "episodes_done"), _count(meta, "env_steps")
        agent.rng.bit_generator.state = meta["rng_state"]
    return agent
