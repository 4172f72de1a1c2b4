"""A run folder's TensorBoard events: Stable-Baselines3's keys, the values of the run's own record."""

import struct

import numpy as np
import pytest

from minidqn.cli.commands import run
from minidqn.training.history import History

event_pb2 = pytest.importorskip("tensorboardX.proto.event_pb2")


def read_events(folder) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value), ...]} from the event files in `folder` (TFRecord: a length, its CRC,
    the serialized Event, the Event's CRC)."""
    scalars = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data, at = path.read_bytes(), 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = event_pb2.Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_a_run_writes_sb3s_keys_with_its_own_records(tmp_path):
    out = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "1500", "--learning-starts", "200", "--out", str(out), "--verbose", "0",
         "--eval-episodes", "2"])
    scalars = read_events(out / "tensorboard")
    assert set(scalars) == {"rollout/ep_rew_mean", "rollout/ep_len_mean", "train/loss", "train/q_mean",
                            "train/epsilon", "train/learning_rate", "time/fps"}
    history = History.from_csv(out / "history.csv")
    steps, means = zip(*scalars["rollout/ep_rew_mean"])
    assert list(steps) == history.env_steps  # one point per episode, at its last env step
    expected = [np.mean(history.episode_return[max(0, i - 99):i + 1]) for i in range(len(history))]
    np.testing.assert_allclose(means, expected, rtol=1e-6)  # the mean of the last 100 returns
    assert all(value > 0 for _, value in scalars["time/fps"])


def test_without_tensorboardx_a_run_writes_no_events(tmp_path, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboardX" else find_spec(name, *a))
    run(["train", "CartPole-v1", "--steps", "300", "--learning-starts", "100", "--out", str(tmp_path / "run"),
         "--verbose", "0", "--eval-episodes", "2"])
    assert (tmp_path / "run" / "history.csv").exists() and not (tmp_path / "run" / "tensorboard").exists()
