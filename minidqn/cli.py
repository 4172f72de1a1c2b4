"""Command-line flags for config dataclasses: each field becomes a flag of the same name."""

from __future__ import annotations

import argparse
import dataclasses
import typing


def add_config_flags(parser: argparse.ArgumentParser, config_cls, defaults=None, prefix: str = "") -> None:
    """Add `--<prefix><field>` for every field of the dataclass `config_cls`, defaulting to None so
    that `config_from_args` can tell which fields the user set. `defaults` (an instance) is shown
    in the help text instead of the class defaults, for demos whose presets change them. A demo
    with two configs whose field names overlap (both have `gamma`) gives each its own `prefix`,
    such as "dqn." for `--dqn.gamma`, and passes the same prefix to `config_from_args`."""
    hints = typing.get_type_hints(config_cls)
    group = parser.add_argument_group(f"{config_cls.__name__} fields")
    for f in dataclasses.fields(config_cls):
        shown = getattr(defaults, f.name) if defaults is not None else f.default
        kind = hints[f.name]
        kwargs: dict = {"default": None, "help": f"default: {shown}"}
        if kind is bool:
            kwargs["type"] = _parse_bool
        elif typing.get_origin(kind) is tuple:
            kwargs.update(type=int, nargs="+")
        elif kind == (float | None):
            kwargs["type"] = _parse_optional_float
        else:
            kwargs["type"] = kind
        group.add_argument(f"--{prefix}{f.name}", dest=f"{prefix}{f.name}", **kwargs)


def config_from_args(args: argparse.Namespace, base, prefix: str = ""):
    """`base` with every field the user set on the command line (as `--<prefix><field>`) replaced."""
    changes = {f.name: getattr(args, prefix + f.name) for f in dataclasses.fields(base)
               if getattr(args, prefix + f.name, None) is not None}
    return dataclasses.replace(base, **changes)


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _parse_optional_float(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)
