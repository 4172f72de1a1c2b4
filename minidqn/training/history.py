"""The record of a training run, one row per finished episode, kept in memory or streamed to CSV.

train() builds an `Episode` when an episode ends, passes it to the callback, and appends it to
the `History` it returns. `EpisodeCSV` is a callback that writes each row as it arrives, so a
long run can be watched with `tail -f` and a crash loses nothing; `History.from_csv` reads the
file back, for plotting a saved run.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from dataclasses import astuple, dataclass, field, fields

from minidqn.common.files import open_regular, write_atomically


@dataclass(frozen=True)
class Episode:
    """One finished training episode (DQN or tabular), as the callback receives it."""

    episode: int  # the episode's number, counted over all train() calls
    episode_return: float  # Σ rewards of the episode, undiscounted
    episode_length: int  # env steps in the episode
    env_steps: int  # training env steps so far, at its end
    epsilon: float  # ε at the episode's last step
    learning_rate: float  # Adam's lr (DQN) or α (tabular) at its end
    mean_loss: float  # mean TD loss of its updates (tabular: δ²; nan: none)
    mean_q: float  # mean predicted Q(sᵢ, aᵢ) of its updates' batches (nan: none)
    max_q: float  # largest predicted Q(sᵢ, aᵢ) in them: over-estimation shows here
    wall_time: float  # seconds since train() began, at its end


COLUMNS = [f.name for f in fields(Episode)]
_INTEGER_COLUMNS = {f.name for f in fields(Episode) if f.type == "int"}


@dataclass
class History:
    """Per-episode columns of a training run: for each field of `Episode`, a list with one entry
    per episode finished in one train() call (history.episode_return[-1] is the last return)."""

    episode: list[int] = field(default_factory=list)
    episode_return: list[float] = field(default_factory=list)
    episode_length: list[int] = field(default_factory=list)
    env_steps: list[int] = field(default_factory=list)
    epsilon: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    mean_loss: list[float] = field(default_factory=list)
    mean_q: list[float] = field(default_factory=list)
    max_q: list[float] = field(default_factory=list)
    wall_time: list[float] = field(default_factory=list)

    @classmethod
    def columns(cls) -> list[str]:
        return list(COLUMNS)

    def append(self, episode: Episode) -> None:
        """Add one finished episode as a row."""
        if not isinstance(episode, Episode):
            raise TypeError(f"expected an Episode, got {type(episode).__name__}")
        for name, value in zip(COLUMNS, astuple(episode)):
            getattr(self, name).append(value)

    def __len__(self) -> int:
        return len(self.episode)

    def __getitem__(self, i: int) -> Episode:
        """Row i as an Episode (negative i counts from the end)."""
        return Episode(*(getattr(self, name)[i] for name in COLUMNS))

    def extend(self, other: History) -> None:
        """Append every row of `other` (a later train() call's history) after these."""
        for name in COLUMNS:
            getattr(self, name).extend(getattr(other, name))

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write a header row of column names, then one row per episode, atomically: a file
        already at `path` is replaced whole or left as it was, never cut short."""
        write_csv(path, [COLUMNS, *zip(*(getattr(self, name) for name in COLUMNS))])

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> History:
        """The history written by `to_csv` or `EpisodeCSV`; ValueError naming the line that is not
        such a row (a run killed mid-write may leave a cut last line: it is skipped)."""
        history, rows = cls(), read_csv_rows(path)
        if not rows or rows[0] != COLUMNS:
            raise ValueError(f"{os.fspath(path)} is not a minidqn history: its header should be {','.join(COLUMNS)}")
        for number, row in enumerate(rows[1:], start=2):
            if number == len(rows) and len(row) != len(COLUMNS):
                break  # a last line cut short by a crash
            try:
                values = [int(v) if name in _INTEGER_COLUMNS else float(v) for name, v in zip(COLUMNS, row, strict=True)]
            except ValueError as error:
                raise ValueError(f"{os.fspath(path)}, line {number}: not a history row ({error})") from None
            history.append(Episode(*values))
        return history


class EpisodeCSV:
    """A train() callback that appends each finished episode to a CSV file and flushes it.

    The header is written when the file is new or empty; otherwise rows are added after those
    there (a resumed run continues its file, after checking that the header matches)."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        fresh = not os.path.exists(self.path) or os.path.getsize(self.path) == 0
        if not fresh:
            header = (read_csv_rows(self.path, limit=1) or [[]])[0]  # the header alone, not the whole record
            if header != COLUMNS:
                raise ValueError(f"{self.path} exists and is not a minidqn history; refusing to append to it")
        self.file = open(self.path, "a", newline="")  # noqa: SIM115  (closed by close())
        self.writer = csv.writer(self.file)
        if fresh:
            self.writer.writerow(COLUMNS)
            self.file.flush()

    def __call__(self, agent, episode: Episode) -> bool:
        self.writer.writerow(astuple(episode))
        self.file.flush()
        return True

    def close(self) -> None:
        self.file.close()

    def __enter__(self):  # the writer itself, for `with EpisodeCSV(path) as writer:`
        return self

    def __exit__(self, *error) -> None:
        self.close()


def read_csv_rows(path: str | os.PathLike, limit: int | None = None) -> list[list[str]]:
    """The rows of the CSV file at `path` (the first `limit` of them, if given), as strings; a
    ValueError naming it if it is not UTF-8 text that Python's csv module can read (a NUL byte, a
    field past its size limit)."""
    try:
        with open_regular(path, newline="", encoding="utf-8") as f:
            return list(itertools.islice(csv.reader(f), limit))
    except (UnicodeDecodeError, csv.Error) as error:
        raise ValueError(f"{os.fspath(path)} is not a CSV text file ({error})") from None


def write_csv(path: str | os.PathLike, rows) -> None:
    """Write `rows` (the header first) as a CSV file that replaces `path` whole or not at all
    (minidqn.common.files.write_atomically): a kill or a full disk leaves the old file."""
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    write_atomically(path, lambda f: f.write(text.getvalue().encode()))
