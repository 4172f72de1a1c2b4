"""Command-line flags for config dataclasses: each field becomes a flag of the same name.

A field `lr_end` becomes `--lr-end` (and `--lr_end`, the field's own spelling, is accepted too);
its help text is the comment on the field's line in the class, followed by the value the chosen
starting point gives it. A flag left out keeps that value; `none` sets an optional field to None.

    >>> import argparse
    >>> parser = argparse.ArgumentParser()
    >>> add_config_flags(parser, DQNConfig)
    >>> config = config_from_args(parser.parse_args(["--lr-end", "none", "--hidden_sizes", "32"]), DQNConfig())
    >>> config.lr_end, config.hidden_sizes, config.gamma == DQNConfig().gamma
    (None, (32,), True)
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import inspect
import io
import math
import textwrap
import tokenize
import typing
from pathlib import Path

from minidqn.agents.config import DQNConfig  # noqa: F401  (the doctest's example)
from minidqn.common.validation import MAX_COUNT


def add_config_flags(parser: argparse.ArgumentParser, config_cls, defaults=None, prefix: str = "") -> None:
    """Add `--<prefix><field-name>` for every field of the dataclass `config_cls`. A flag the user
    leaves out is absent from the parsed namespace, so `config_from_args` changes only the fields
    set (None included). `defaults` (an instance: a preset) is shown in the help text instead of
    the class defaults. A demo with two configs whose field names overlap (both have `gamma`)
    gives each its own `prefix`, such as "dqn." for `--dqn.gamma`, and passes it to
    `config_from_args`."""
    hints = typing.get_type_hints(config_cls)
    comments = field_comments(config_cls)
    group = parser.add_argument_group(f"{config_cls.__name__} fields")
    for f in dataclasses.fields(config_cls):
        shown = getattr(defaults, f.name) if defaults is not None else f.default
        kind = hints[f.name]
        if isinstance(shown, tuple):
            shown = " ".join("x".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in shown) or "none"
        kwargs: dict = {"default": argparse.SUPPRESS, "dest": f"{prefix}{f.name}",
                        "help": f"{comments.get(f.name, '')} (default: {shown})".lstrip()}
        optional = typing.get_origin(kind) in (typing.Union, _UnionType) and type(None) in typing.get_args(kind)
        base = next(t for t in typing.get_args(kind) if t is not type(None)) if optional else kind
        if base is bool:
            kwargs.update(type=_parse_bool, metavar="{true,false}")
        elif typing.get_origin(base) is tuple and typing.get_origin(typing.get_args(base)[0]) is tuple:
            kwargs.update(type=_parse_pair, nargs="*", metavar="CxK")  # conv_layers: 16x3 32x3; none given: ()
        elif typing.get_origin(base) is tuple:
            kwargs.update(type=int, nargs="+", metavar="N")
        else:
            kwargs.update(type=_or_none(base) if optional else base, metavar=f"{base.__name__.upper()}"
                          + ("|none" if optional else ""))
        spellings = dict.fromkeys([f"--{prefix}{f.name.replace('_', '-')}", f"--{prefix}{f.name}"])
        group.add_argument(*spellings, **kwargs)


def config_from_args(args: argparse.Namespace, base, prefix: str = ""):
    """`base` with every field the user set on the command line (as `--<prefix><field>`) replaced."""
    given = vars(args)
    changes = {f.name: given[prefix + f.name] for f in dataclasses.fields(base) if prefix + f.name in given}
    return dataclasses.replace(base, **changes)


@functools.cache
def field_comments(config_cls) -> dict[str, str]:
    """{field: the comment ending its line} from the source of the dataclass `config_cls`: the
    short description each field carries (`gamma: float = 0.99  # γ, discount factor`)."""
    source = textwrap.dedent(inspect.getsource(config_cls))
    comments, line_field = {}, {}
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for previous, token, following in zip(tokens, tokens[1:], tokens[2:]):
        starts_line = previous.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE, tokenize.NL)
        if token.type == tokenize.NAME and starts_line and following.string == ":":
            line_field[token.start[0]] = token.string  # `name:` opening a line: a field
        elif token.type == tokenize.COMMENT and token.start[0] in line_field:
            comments[line_field[token.start[0]]] = token.string.lstrip("# ").strip()
    return comments


_UnionType = type(int | None)  # `float | None` is a types.UnionType, `Optional[float]` a typing.Union


def _or_none(kind):
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)

    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse


def _parse_pair(text: str) -> tuple[int, int]:
    """'16x3' -> (16, 3): a conv layer's out_channels and kernel size."""
    try:
        channels, kernel = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected out_channels x kernel_size such as 16x3, got {text!r}") from None
    return channels, kernel


def _parse_bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


# --- argument types of the command line's own flags ---------------------------------------------
def positive(text: str) -> int:
    """An argparse type: an integer from 1 to 2**53."""
    value = int(text)
    if not 1 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected a positive integer up to 2**53, got {text}")
    return value


def non_negative(text: str) -> int:
    """An argparse type: an integer from 0 to 2**53."""
    value = int(text)
    if not 0 <= value <= MAX_COUNT:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to 2**53, got {text}")
    return value


def file_of(*suffixes: str):
    """An argparse type: a path whose name ends in one of `suffixes` (so that a slip cannot send
    a picture over agent.npz or history.csv)."""
    def path(text: str) -> Path:
        if not text.lower().endswith(suffixes):
            raise argparse.ArgumentTypeError(f"expected a file name ending in {' or '.join(suffixes)}, got {text!r}")
        return Path(text)

    return path


def finite(text: str) -> float:
    """An argparse type: a finite number."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value
