"""A sweep as data: the trials of an env, some seeds and some config values, each one checked before any runs.

A sweep is the product of seeds and of values for config fields, on one env, from the env's
preset: `--seeds 0-9 --set lr=1e-3,2e-3 --set n_step=1,3` is 10 × 2 × 2 = 40 trials. The same can
be a small TOML file, which also takes named rows (an ablation: each row a few fields changed from
the preset, run on every seed):

    env_id = "CartPole-v1"
    steps = 50000
    seeds = "0-9"

    [[rows]]
    name = "no target network"
    set = {tau = 1.0, target_update_interval = 1}

    [[rows]]
    name = "trunc = term"
    wrap = ["truncation-as-termination"]  # a row may change the training env (minidqn.training.wrappers)

Every trial's config is built, and so validated by DQNConfig, when the sweep is read: a misspelt
key or a bad value stops it before the first trial starts, naming the key and the valid ones.

    >>> trials = sweep_trials("CartPole-v1", DQNConfig(), parse_seeds("0-1"), [parse_set("lr=1e-3,2e-3")])
    >>> [(t.name, t.seed, t.swept) for t in trials]
    [('lr=0.001-seed=0', 0, {'lr': 0.001}), ('lr=0.001-seed=1', 1, {'lr': 0.001}), ('lr=0.002-seed=0', 0, {'lr': 0.002}), ('lr=0.002-seed=1', 1, {'lr': 0.002})]
"""

from __future__ import annotations

import dataclasses
import itertools
import typing
from dataclasses import dataclass, field
from pathlib import Path

from minidqn.agents.config import DQNConfig
from minidqn.common.files import open_regular
from minidqn.training.wrappers import check_wrappers


@dataclass(frozen=True)
class Trial:
    """One run of a sweep: its own run folder `name`, an env, a seed, and the full config."""

    name: str  # the trial's folder under the sweep's, from its swept values and seed
    env_id: str
    seed: int
    swept: dict = field(hash=False)  # the fields this sweep sets, and their values here
    config: DQNConfig = field(hash=False)  # the preset with the swept fields set
    wrap: tuple = ()  # wrappers of the training env, by name (minidqn.training.wrappers)
    base: str = "the preset"  # what the trial is called where nothing is swept: what it starts from
    label: str = ""  # what tables call its configuration: its row's name as written, and the values swept beside it


class Row(typing.NamedTuple):
    """One named alternative of a sweep file: fields changed from the preset, and wrappers of the training env."""

    name: str
    changes: dict
    wrap: tuple = ()


def configuration(trial: Trial) -> str:
    """What a trial's configuration is called: its label, the same for all its seeds so that they
    group together (its `base`, such as "the preset", if nothing is swept)."""
    return trial.label or trial.base


def parse_seeds(text: str) -> list[int]:
    """'0-9' -> [0, ..., 9]; '0-4,7' -> [0, 1, 2, 3, 4, 7]; ValueError naming --seeds otherwise."""
    seeds = []
    for part in str(text).split(","):
        first, _, last = part.strip().partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise ValueError(f"--seeds {text!r}: expected seeds such as 0-9 or 0-4,7") from None
        if low < 0 or high < low:
            raise ValueError(f"--seeds {text!r}: a range must run upwards from 0 or more, got {part.strip()!r}")
        seeds += range(low, high + 1)
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds {text!r} names a seed twice")
    return seeds


def parse_set(text: str) -> tuple[str, list]:
    """'lr=1e-3,2e-3' -> ('lr', [0.001, 0.002]): a DQNConfig field and the values it takes, each
    parsed by the field's type (true/false, none, 64x64 for hidden sizes); ValueError naming
    the key and the valid keys for a field DQNConfig lacks."""
    key, equals, values = text.partition("=")
    key = key.strip().replace("-", "_")
    check_key(key)
    if not equals or not values.strip():
        raise ValueError(f"--set {text!r}: expected KEY=VALUE[,VALUE...], such as lr=1e-3,2e-3")
    return key, [parse_value(key, value.strip()) for value in values.split(",")]


def check_key(key: str) -> None:
    fields = [f.name for f in dataclasses.fields(DQNConfig)]
    if key not in fields:
        raise ValueError(f"{key!r} is not a DQNConfig field; the fields are {', '.join(fields)}")


def parse_value(key: str, text: str):
    """One value for DQNConfig field `key`, from the text of a --set."""
    kind = typing.get_type_hints(DQNConfig)[key]
    options = [t for t in typing.get_args(kind) if t is not type(None)] if typing.get_args(kind) else [kind]
    base = options[0] if typing.get_origin(kind) is not tuple else kind
    if text.lower() == "none" and type(None) in typing.get_args(kind):
        return None
    try:
        if base is bool:
            return {"true": True, "false": False}[text.lower()]
        if typing.get_origin(base) is tuple:
            return tuple(int(n) for n in text.lower().split("x"))  # 64x64: the hidden layers' widths
        return base(text)
    except (KeyError, ValueError):
        raise ValueError(f"--set {key}: {text!r} is not a {getattr(base, '__name__', base)}") from None


def sweep_trials(env_id: str, base: DQNConfig, seeds: list[int], sets: list[tuple[str, list]],
                 rows: list[Row] | None = None, base_name: str = "the preset") -> list[Trial]:
    """Every trial of the sweep, its config built (so checked) now. `sets` multiply: each field
    takes each of its values; `rows` are alternatives to one another, each combined with every
    product of `sets` and every seed. `base_name` names `base` where nothing is swept."""
    if len({key for key, _ in sets}) != len(sets):
        raise ValueError("a field is --set twice: give all its values in one --set, comma-separated")
    trials = []
    for row_name, row, wrap in rows or [Row("", {})]:
        for key in row:
            check_key(key)
        check_wrappers(wrap)
        for values in itertools.product(*(values for _, values in sets)):
            swept = {**row, **dict(zip((key for key, _ in sets), values))}
            try:
                config = dataclasses.replace(base, **swept)
            except (TypeError, ValueError) as error:
                raise ValueError(f"the trial {row_name or swept} cannot run: {error}") from None
            values_swept = [f"{key}={_text(value)}" for key, value in swept.items() if key not in row]
            label = ", ".join([*([row_name] if row_name else []), *values_swept])
            folder = "-".join([*([_folder_part(row_name)] if row_name else []), *values_swept])
            for seed in seeds:
                name = f"{folder}-seed={seed}" if folder else f"seed={seed}"
                trials.append(Trial(name, env_id, seed, swept, config, tuple(wrap), base_name, label))
    check_folders_apart(trials)
    return trials


def _folder_part(row_name: str) -> str:
    """A row's name as part of a folder's name: spaces and path separators as underscores."""
    return row_name.replace(" ", "_").replace("/", "_").replace("\\", "_")


def check_folders_apart(trials: list[Trial]) -> None:
    """ValueError if two trials would share a run folder (rows named "a b" and "a_b", or one name
    twice): the second would find the first's run there and take it for its own."""
    seen = {}
    for trial in trials:
        other = seen.setdefault(trial.name, trial)
        if other is not trial:
            raise ValueError(f"rows {other.label or other.base!r} and {trial.label or trial.base!r} would share the "
                             f"run folder {trial.name}: give them names apart (a folder's name has underscores for spaces and slashes)")


def read_sweep_file(path: Path) -> dict:
    """The TOML file of a sweep: {env_id, preset ("env", "defaults" or "rainbow"), steps (or None), seeds, sets,
    rows}; ValueError naming the file and what is wrong in it."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        with open_regular(path, "rb") as f:
            spec = tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path} is not valid TOML ({error})") from None
    unknown = set(spec) - {"env_id", "preset", "steps", "seeds", "set", "rows"}
    if unknown or "env_id" not in spec:
        raise ValueError(f"{path}: a sweep file holds env_id, and may hold preset, steps, seeds, set and rows"
                         + (f"; it has {', '.join(sorted(unknown))}" if unknown else "; env_id is missing"))
    if spec.get("preset", "env") not in ("env", "defaults", "rainbow"):
        raise ValueError(f"{path}: preset must be \"env\", \"defaults\" or \"rainbow\", got {spec['preset']!r}")
    seeds = spec.get("seeds", "0")
    sets = []
    for key, values in spec.get("set", {}).items():  # each a list of values: lr = [1e-3, 2e-3]
        check_key(key)
        values = values if isinstance(values, list) else [values]
        sets.append((key, [toml_value(key, v) for v in values]))
    rows = []
    for i, row in enumerate(spec.get("rows", [])):
        unknown = set(row) - {"name", "set", "wrap"} if isinstance(row, dict) else {"no table"}
        if unknown or not isinstance(row.get("set", {}), dict):
            raise ValueError(f"{path}: a row is a table of name, set = {{field = value}} and wrap = [names]; "
                             f"row {i} is {row!r}")
        changes = {k: toml_value(k, v) for k, v in row.get("set", {}).items()}
        rows.append(Row(row.get("name", f"row {i}"), changes, tuple(check_wrappers(row.get("wrap", [])))))
    return {"env_id": spec["env_id"], "preset": spec.get("preset", "env"), "steps": spec.get("steps"),
            "seeds": parse_seeds(seeds) if isinstance(seeds, str) else [int(s) for s in seeds], "sets": sets,
            "rows": rows or None}


def toml_value(key: str, value):
    """A value read from TOML as the config field `key` takes it: a list as a tuple ([64, 64] for
    hidden sizes), and "none" as None where the field may be None (TOML has no null)."""
    check_key(key)
    if isinstance(value, list):
        return tuple(value)
    return parse_value(key, value) if isinstance(value, str) and value.lower() == "none" else value


def _text(value) -> str:
    return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)
