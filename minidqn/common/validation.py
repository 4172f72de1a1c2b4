"""Checks shared by the config dataclasses, so that a bad value fails at once, naming its field."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np

MAX_COUNT = 2**53  # env steps, episodes, intervals: counts a float64 still holds exactly


def is_int(value: object) -> bool:
    """An int, NumPy's included, but not a bool (True would pass as 1)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def is_number(value: object) -> bool:
    """An int or a float of at most 64 bits, NumPy's included, but not a bool, a string or an array."""
    return (isinstance(value, (int, float, np.integer, np.float16, np.float32, np.float64))
            and not isinstance(value, (bool, np.bool_)))


def is_real(value: object) -> bool:
    """A finite number (`is_number`) that a float64 can hold: not NaN, not ±inf, not 10**400.
    (np.longdouble is refused: it cannot be written as JSON, so no checkpoint could hold it.)"""
    if isinstance(value, (int, np.integer)):
        return is_number(value) and abs(int(value)) < 2**1024  # the largest float64 is just below 2¹⁰²⁴
    return is_number(value) and math.isfinite(value)


def check(config: object, ok: bool, name: str, allowed: str) -> None:
    """ValueError "DQNConfig.gamma must be a number in [0, 1], got 1.5" unless `ok`."""
    if not ok:
        got = repr(getattr(config, name))
        got = got if len(got) <= 80 else f"{got[:60]}... ({len(got):,} characters)"
        raise ValueError(f"{type(config).__name__}.{name} must be {allowed}, got {got}")


def make_plain(config: object) -> None:
    """Replace the NumPy scalars in a frozen dataclass by the Python values they hold, and lists
    by tuples, so that a checkpoint can store the config as JSON and rebuild an equal one."""
    for f in fields(config):
        object.__setattr__(config, f.name, _plain(getattr(config, f.name)))


def _plain(value):
    """A NumPy scalar as its Python value, a list or tuple (nested too) as a tuple of such values."""
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def count(record: dict, name: str, minimum: int = 0) -> int:
    """record[name], checked to be an integer from `minimum` to 2⁵³ (a counter read back from a
    checkpoint: past 2⁵³ a float64 no longer holds every count, so schedules would skip steps)."""
    value = record[name]
    if not (is_int(value) and minimum <= value <= MAX_COUNT):
        raise ValueError(f"{name} must be an integer from {minimum} to 2**53, got {value!r}")
    return int(value)


def check_seed(seed: object) -> int:
    """The agents' seed as an int, or a ValueError: an integer ≥ 0 (NumPy's seeding rule)."""
    if not (is_int(seed) and seed >= 0):
        raise ValueError(f"seed must be an integer ≥ 0, got {seed!r}")
    return int(seed)
