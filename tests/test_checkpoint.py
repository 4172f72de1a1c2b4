"""Checkpoints: exact resume in a new process, atomic writes that survive faults, every refusal on
load, periodic and Ctrl-C checkpoints during training, and the divergence guard."""

import dataclasses
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import gymnasium as gym
import numpy as np
import pytest
from envs import OneStateEnv
from gymnasium import spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minidqn import CheckpointError, DivergenceError, DQNAgent, DQNConfig
from minidqn.agents.tabular import Discretizer, QLearningAgent, QLearningConfig
from minidqn.common.checkpoint import write_checkpoint

BOX3 = spaces.Box(-1.0, 1.0, (3,), np.float32)
# Small enough to run in a second; buffer_size < N so the buffer is full and evicting at the save.
RESUME_CONFIG = DQNConfig(hidden_sizes=(32, 32), learning_starts=100, buffer_size=300, batch_size=32)
N, M = 500, 400  # env steps before and after the save


def ConstantEnv(reward: float = 1.0) -> OneStateEnv:
    """One state, observation [0.5], every action pays `reward`; a time limit ends each episode
    after 5 steps."""
    return OneStateEnv(truncate=True, length=5, reward=reward)


def _small_agent(seed=0, steps=60):
    env = ConstantEnv()
    agent = DQNAgent(env.observation_space, env.action_space,
                     DQNConfig(hidden_sizes=(4,), buffer_size=16, batch_size=4, learning_starts=8), seed=seed)
    agent.train(env, steps, verbose=0)
    return agent


def _state(agent: DQNAgent) -> dict:
    """Everything a DQNAgent checkpoint holds, as comparable values."""
    return {"online": agent.online.flat_params.tolist(), "target": agent.target.flat_params.tolist(),
            "m": agent.optimizer.m[0].tolist(), "v": agent.optimizer.v[0].tolist(),
            "t": agent.optimizer.t, "lr": agent.optimizer.lr, "replay": agent.buffer.rows().tolist(),
            "counters": (agent.num_steps, agent.num_updates, agent.num_episodes),
            "n_step": [a.tolist() for a in agent.n_step_transitions.state()[1].values()],
            "rngs": [r.bit_generator.state for r in (agent.rng, agent.replay_rng, agent.env_rng)],
            "config": agent.config, "seed": agent.seed}


def _history_without_wall_time(history) -> dict:
    return {k: v for k, v in dataclasses.asdict(history).items() if k != "wall_time"}


# --- exact resume ------------------------------------------------------------------------------
RESUME_SCRIPT = textwrap.dedent("""
    import dataclasses, json, sys
    import gymnasium as gym
    from minidqn import DQNAgent
    agent = DQNAgent.load(sys.argv[1])
    history = agent.train(gym.make("CartPole-v1"), int(sys.argv[3]), verbose=0)
    agent.save(sys.argv[2])
    print(json.dumps(dataclasses.asdict(history)))
""")


def test_train_save_load_in_a_new_process_and_train_is_bit_for_bit_one_run(tmp_path):
    env = gym.make("CartPole-v1")
    agent = DQNAgent(env.observation_space, env.action_space, RESUME_CONFIG, seed=7)
    agent.train(env, N, verbose=0)
    agent.save(tmp_path / "after_n.npz")
    expected = agent.train(env, M, verbose=0)  # the same process, no save/load in between

    done = subprocess.run([sys.executable, "-c", RESUME_SCRIPT, str(tmp_path / "after_n.npz"),
                           str(tmp_path / "after_n_m.npz"), str(M)],
                          capture_output=True, text=True, check=True, timeout=120)
    resumed = json.loads(done.stdout)
    del resumed["wall_time"]
    assert len(expected) > 5 and resumed == _history_without_wall_time(expected)
    assert _state(DQNAgent.load(tmp_path / "after_n_m.npz")) == _state(agent)


def test_q_learning_agent_resumes_exactly_after_save_and_load(tmp_path):
    env = gym.make("FrozenLake-v1")
    config = QLearningConfig(alpha_decay_episodes=100, epsilon_decay_episodes=100)
    one_run = QLearningAgent(env.observation_space, env.action_space, config, seed=3)
    one_run.train(env, 60, verbose=0)
    expected = one_run.train(env, 60, verbose=0)
    first = QLearningAgent(env.observation_space, env.action_space, config, seed=3)
    first.train(env, 60, verbose=0)
    first.save(tmp_path / "q.npz")
    resumed = QLearningAgent.load(tmp_path / "q.npz")
    history = resumed.train(gym.make("FrozenLake-v1"), 60, verbose=0)
    assert _history_without_wall_time(history) == _history_without_wall_time(expected)
    np.testing.assert_array_equal(resumed.q, one_run.q)


def test_a_checkpoint_holds_the_whole_training_state(tmp_path):
    agent = _small_agent(seed=4)
    assert len(agent.buffer) == 16 and agent.optimizer.t > 0  # a full buffer, a moving optimizer
    agent.save(tmp_path / "a.npz")
    assert _state(DQNAgent.load(tmp_path / "a.npz")) == _state(agent)
    with np.load(tmp_path / "a.npz", allow_pickle=False) as data:
        assert all(data[name].dtype != object for name in data.files)


def test_config_with_numpy_scalars_survives_the_json_round_trip(tmp_path):
    config = DQNConfig(gamma=np.float32(0.9), batch_size=np.int64(8), hidden_sizes=[np.int64(5)],
                       double_dqn=np.bool_(False))
    agent = DQNAgent(BOX3, spaces.Discrete(2), config)
    agent.save(tmp_path / "a.npz")
    assert DQNAgent.load(tmp_path / "a.npz").config == config


# --- the atomic write --------------------------------------------------------------------------
def _fail_in_savez(monkeypatch, error):
    """np.savez writes half of its bytes, then raises `error` (a full disk, a Ctrl-C)."""
    real_savez = np.savez

    def half_then_fail(file, **arrays):
        buffer = io.BytesIO()
        real_savez(buffer, **arrays)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise error

    monkeypatch.setattr(np, "savez", half_then_fail)


def _fail_in(monkeypatch, function_name, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(os, function_name, fail)


@pytest.mark.parametrize("inject", [_fail_in_savez, lambda mp, e: _fail_in(mp, "fsync", e),
                                    lambda mp, e: _fail_in(mp, "replace", e)],
                         ids=["mid-write", "at-fsync", "at-rename"])
@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_failed_save_leaves_the_previous_checkpoint_intact_and_no_temporary(tmp_path, monkeypatch, inject, error):
    path = tmp_path / "agent.npz"
    old = _small_agent(seed=1)
    old.save(path)
    new = _small_agent(seed=2, steps=80)
    inject(monkeypatch, error)
    with pytest.raises(type(error)):
        new.save(path)
    monkeypatch.undo()
    assert _state(DQNAgent.load(path)) == _state(old)
    assert os.listdir(tmp_path) == ["agent.npz"]


def test_a_failed_q_learning_save_also_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "q.npz"
    old = QLearningAgent(spaces.Discrete(3), spaces.Discrete(2), seed=0)
    old.q[:] = 1.0
    old.save(path)
    _fail_in_savez(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        QLearningAgent(spaces.Discrete(3), spaces.Discrete(2), seed=1).save(path)
    monkeypatch.undo()
    np.testing.assert_array_equal(QLearningAgent.load(path).q, old.q)
    assert os.listdir(tmp_path) == ["q.npz"]


KILL_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from gymnasium import spaces
    from minidqn import DQNAgent, DQNConfig
    agent = DQNAgent(spaces.Box(-1, 1, (8,)), spaces.Discrete(2), DQNConfig(buffer_size=60_000))
    rows = np.random.default_rng(0).normal(size=(60_000, 19)).astype(np.float32)
    rows[:, 8], rows[:, 18] = np.arange(60_000) % 2, 0.0  # [obs (8) | action | reward | next_obs (8) | terminated]
    agent.buffer.load_state({"obs_dim": 8}, {"rows": rows})
    agent.save(sys.argv[1])
    print("saved", flush=True)
    while True:
        agent.num_steps += 1
        agent.save(sys.argv[1])
""")


def test_a_process_killed_while_saving_leaves_a_loadable_checkpoint(tmp_path):
    path = tmp_path / "agent.npz"
    for delay in (0.05, 0.23):
        process = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)], stdout=subprocess.PIPE, text=True)
        try:
            assert process.stdout.readline().strip() == "saved"
            time.sleep(delay)  # each save of this ~5 MB checkpoint takes tens of ms: kill mid-way
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            process.stdout.close()
        agent = DQNAgent.load(path)  # whichever save completed last, whole
        assert len(agent.buffer) == 60_000
        for leftover in tmp_path.glob("*.tmp"):  # a SIGKILL cannot clean up; the next save would
            leftover.unlink()


# --- refusals on load --------------------------------------------------------------------------
def _rewrite(source, target, change):
    """Copy the checkpoint `source` to `target` after `change(meta, arrays)` edits its contents."""
    with np.load(source, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(meta, arrays)
    np.savez(target, meta=np.array(json.dumps(meta)), **arrays)


@pytest.fixture(scope="module")
def dqn_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "dqn.npz"
    _small_agent(seed=3).save(path)
    return path


@pytest.fixture(scope="module")
def q_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "q.npz"
    QLearningAgent(spaces.Discrete(3), spaces.Discrete(2), seed=0).save(path)
    return path


def _set(key, value):
    def change(meta, arrays):
        meta[key] = value
    return change


def _set_config(key, value):
    def change(meta, arrays):
        meta["config"][key] = value
    return change


def _drop_config(key):
    def change(meta, arrays):
        del meta["config"][key]
    return change


def _set_array(name, value):
    def change(meta, arrays):
        arrays[name] = value(arrays[name])
    return change


def _drop_array(name):
    def change(meta, arrays):
        del arrays[name]
    return change


def _set_part(part, key, value):
    def change(meta, arrays):
        meta[part][key] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set("format", "minidqn.DQNAgent/1"), "format version 1.*only the two networks"),
    (_set("format", "minidqn.DQNAgent/99"), "format version 99.*different minidqn release"),
    (_set("format", "minidqn.QLearningAgent/1"), r"holds a QLearningAgent \(load it with QLearningAgent.load\)"),
    (_set("format", "something else"), "not a minidqn checkpoint"),
    (_drop_array("optimizer.v.0"), "'optimizer.v.0' missing"),
    (_set_array("online.params", lambda a: a[:-1]), r"online: params must be float32 \(\d+,\), got float32"),
    (_set_array("target.params", lambda a: a.astype(np.float64)), "target: params must be float32 .*got float64"),
    (_set_array("buffer.rows", lambda a: a[:, :-1]), "buffer: rows must be"),
    (_set_array("buffer.rows", lambda a: np.concatenate([a, a])), "buffer: rows hold 32 transitions, more than the capacity 16"),
    (_set_part("buffer", "obs_dim", None), "buffer: rows must be"),
    (_set_array("n_step.actions", lambda a: np.zeros(3, np.int64)), "n_step: the pending window"),
    (_drop_config("gamma"), r"lacks \['gamma'\]"),
    (_set_config("lr_schedule", "cosine"), r"unknown fields \['lr_schedule'\]"),
    (_set_config("gamma", 2.0), "DQNConfig.gamma must be"),
    (_set("obs_shape", [3]), "online: the saved network is"),
    (_set("obs_shape", [3, 0]), "obs_shape must list 1 to 3 positive integers"),
    (_set("obs_shape", "4"), "obs_shape must list 1 to 3 positive integers"),
    (_set("obs_shape", [2, 2, 1]), "need conv_layers"),
    (_set("num_steps", -5), "num_steps must be an integer from 0 to 2"),
    (_set("num_episodes", 2**53 + 1), "num_episodes must be an integer from 0 to 2"),
    (_set_part("optimizer", "t", "soon"), "optimizer: t must be an integer from 0 to 2"),
    (_set_part("optimizer", "t", 2**64), "optimizer: t must be an integer from 0 to 2"),
    (_set_part("optimizer", "lr", "fast"), "optimizer: lr must be a number > 0"),
    (_set("seed", -1), "seed must be an integer ≥ 0"),
    (_set("rng_states", {"rng": "garbage"}), "invalid contents"),
    (_set("rng_states", {}), "missing"),
])
def test_load_refuses_a_bad_dqn_checkpoint_saying_why(dqn_checkpoint, tmp_path, change, message):
    _rewrite(dqn_checkpoint, tmp_path / "bad.npz", change)
    with pytest.raises(CheckpointError, match=f"bad.npz is not a readable DQNAgent checkpoint: .*{message}"):
        DQNAgent.load(tmp_path / "bad.npz")


@pytest.mark.parametrize("change, message", [
    (_set("format", "minidqn.DQNAgent/2"), "holds a DQNAgent"),
    (_set("format", "minidqn.QLearningAgent/3"), "format version 3"),
    (_set_array("q", lambda a: a.astype(np.float32)), "array 'q'"),
    (_set_array("q", lambda a: a[0]), "array 'q'"),
    (_set_config("alpha_start", 0.0), "QLearningConfig.alpha_start must be"),
    (_set("num_episodes", 1.5), "num_episodes must be an integer"),
    (_set("rng_state", None), "invalid contents"),
])
def test_load_refuses_a_bad_q_learning_checkpoint_saying_why(q_checkpoint, tmp_path, change, message):
    _rewrite(q_checkpoint, tmp_path / "bad.npz", change)
    with pytest.raises(CheckpointError, match=f"not a readable QLearningAgent checkpoint: .*{message}"):
        QLearningAgent.load(tmp_path / "bad.npz")


def test_load_refuses_a_discretizer_grid_that_does_not_fit_the_table(tmp_path):
    agent = QLearningAgent(BOX3, spaces.Discrete(2), discretizer=Discretizer([0] * 3, [1] * 3, 2))
    agent.save(tmp_path / "q.npz")
    _rewrite(tmp_path / "q.npz", tmp_path / "bad.npz", _set_array("bins", lambda b: b + 1))
    with pytest.raises(CheckpointError, match="array 'q' is \\(8, 2\\), the agent's grid needs \\(27, 2\\)"):
        QLearningAgent.load(tmp_path / "bad.npz")


def _write_other_zip(file):
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr("readme.txt", "hello")


@pytest.mark.parametrize("write, message", [
    (lambda f: None, "it is empty"),
    (lambda f: f.write(b"not a zip file at all"), r"it is not an .npz \(zip\) archive"),
    (lambda f: np.save(f, np.zeros(3)), "it is a single .npy array"),
    (_write_other_zip, "it is a zip archive, but not an .npz of arrays"),
    (lambda f: np.savez(f, weights=np.zeros(3)), r"it is not a minidqn checkpoint \(no 'meta' record; it holds \['weights'\]\)"),
    (lambda f: np.savez(f, meta=np.array("{oops")), "its 'meta' record is not valid JSON"),
    (lambda f: np.savez(f, meta=np.array("[1, 2]")), r"it is not a minidqn checkpoint \(no minidqn format tag\)"),
], ids=["empty", "text", "npy", "zip", "npz", "bad-json", "no-tag"])
@pytest.mark.parametrize("agent_class", [DQNAgent, QLearningAgent])
def test_load_refuses_files_that_are_not_checkpoints(tmp_path, write, message, agent_class):
    path = tmp_path / "file.npz"
    with open(path, "wb") as f:  # a file object: np.save and np.savez would append to a name
        write(f)
    with pytest.raises(CheckpointError, match=f"file.npz is not a readable {agent_class.__name__} checkpoint: {message}"):
        agent_class.load(path)


def test_load_refuses_truncated_and_corrupted_checkpoints(dqn_checkpoint, tmp_path):
    raw = dqn_checkpoint.read_bytes()
    (tmp_path / "cut.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted"):
        DQNAgent.load(tmp_path / "cut.npz")
    with np.load(dqn_checkpoint) as data:  # flip a byte in the middle of the weights' data
        offset = raw.index(data["online.params"].tobytes())
    flipped = bytearray(raw)
    flipped[offset + 4] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    with pytest.raises(CheckpointError, match="truncated or corrupted .*CRC"):
        DQNAgent.load(tmp_path / "flipped.npz")


def test_load_of_a_missing_file_or_a_folder_raises_the_os_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        DQNAgent.load(tmp_path / "nowhere.npz")
    with pytest.raises(IsADirectoryError):
        DQNAgent.load(tmp_path)


def test_write_refuses_object_arrays_which_would_need_pickle(tmp_path):
    with pytest.raises(TypeError, match="pickle"):
        write_checkpoint(tmp_path / "x.npz", "minidqn.DQNAgent/4", {}, {"bad": np.array([{}], dtype=object)})
    assert not list(tmp_path.iterdir())


# --- fuzzing the reader (hypothesis) -----------------------------------------------------------
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
ZIP_HEAD = b"PK\x03\x04"


@FUZZ
@given(raw=st.one_of(st.binary(max_size=3000), st.binary(max_size=3000).map(lambda b: ZIP_HEAD + b)))
def test_loading_random_bytes_always_raises_a_checkpoint_error(tmp_path, raw):
    path = tmp_path / "random.npz"
    path.write_bytes(raw)
    for agent_class in (DQNAgent, QLearningAgent):
        with pytest.raises(CheckpointError):
            agent_class.load(path)


@FUZZ
@given(data=st.data())
def test_loading_a_truncated_checkpoint_always_raises_a_checkpoint_error(tmp_path, dqn_checkpoint, data):
    raw = dqn_checkpoint.read_bytes()
    cut = data.draw(st.integers(0, len(raw) - 1))
    (tmp_path / "cut.npz").write_bytes(raw[:cut])
    with pytest.raises(CheckpointError):
        DQNAgent.load(tmp_path / "cut.npz")


@FUZZ
@given(data=st.data())
def test_a_corrupted_byte_is_refused_or_harmless(tmp_path, dqn_checkpoint, data):
    """Flipping any byte either makes the load fail cleanly or changes nothing loaded (a byte of
    zip bookkeeping, such as a timestamp, that no reader looks at)."""
    raw = bytearray(dqn_checkpoint.read_bytes())
    raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
    (tmp_path / "flipped.npz").write_bytes(bytes(raw))
    try:
        loaded = DQNAgent.load(tmp_path / "flipped.npz")
    except CheckpointError:
        return
    assert _state(loaded) == _state(DQNAgent.load(dqn_checkpoint))


# --- checkpoints during training ---------------------------------------------------------------
def test_train_writes_a_checkpoint_every_n_env_steps_and_when_it_ends(tmp_path):
    env, path, seen = ConstantEnv(), tmp_path / "run.npz", []

    def look(agent, episode):
        if path.exists():
            seen.append(DQNAgent.load(path).num_steps)

    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=20), seed=0)
    agent.train(env, 250, callback=look, verbose=0, checkpoint_path=path, checkpoint_every=100)
    assert sorted(set(seen)) == [100, 200] and DQNAgent.load(path).num_steps == 250
    agent.train(env, 150, callback=look, verbose=0, checkpoint_path=path, checkpoint_every=100)
    assert sorted(set(seen)) == [100, 200, 250, 300]  # multiples of 100 over both calls
    assert DQNAgent.load(path).num_steps == 400
    assert os.listdir(tmp_path) == ["run.npz"]


def _interrupt_at(step):
    """A callback that presses Ctrl-C (sends this process SIGINT) at the first episode end at or
    after env step `step`."""
    def callback(agent, episode):
        if episode.env_steps >= step:
            signal.raise_signal(signal.SIGINT)

    return callback


def test_ctrl_c_during_train_saves_a_checkpoint_and_returns_the_history(tmp_path, capsys):
    env, path = ConstantEnv(), tmp_path / "run.npz"
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=20), seed=0)
    history = agent.train(env, 1000, callback=_interrupt_at(120), verbose=0, checkpoint_path=path)
    assert agent.num_steps == 120 and len(history) == 24
    assert f"interrupted at env step 120: saved a checkpoint to {path}" in capsys.readouterr().out
    assert _state(DQNAgent.load(path)) == _state(agent)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C is Python's again


def test_ctrl_c_without_a_checkpoint_path_returns_the_history_and_says_nothing_was_saved(tmp_path, capsys):
    env = ConstantEnv()
    agent = DQNAgent(env.observation_space, env.action_space, seed=0)
    history = agent.train(env, 1000, callback=_interrupt_at(50), verbose=0)
    assert len(history) == 10
    assert "interrupted at env step 50: no checkpoint_path, nothing saved" in capsys.readouterr().out


def test_ctrl_c_inside_an_update_stops_after_the_step_and_saves_a_whole_state(tmp_path, monkeypatch, capsys):
    """SIGINT in the middle of Adam's step (after its moments, before θ) must not leave a
    checkpoint of the half-made update: training stops once the step is done."""
    from minidqn.nn import optim

    env, path = ConstantEnv(), tmp_path / "run.npz"
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=20), seed=0)
    real_step, updates = optim.Adam.step, []

    def step_pressed_at_update_7(self, grads):
        updates.append(agent.num_steps)
        if len(updates) == 7:
            signal.raise_signal(signal.SIGINT)  # lands here, in the middle of the step
        return real_step(self, grads)

    monkeypatch.setattr(optim.Adam, "step", step_pressed_at_update_7)
    agent.train(env, 1000, verbose=0, checkpoint_path=path)
    assert agent.num_steps == updates[-1] and agent.num_updates == agent.optimizer.t == 7  # that step, whole
    assert f"interrupted at env step {updates[-1]}" in capsys.readouterr().out
    assert _state(DQNAgent.load(path)) == _state(agent)


def test_a_second_ctrl_c_interrupts_at_once_and_writes_nothing_after_it(tmp_path, capsys):
    env, path = ConstantEnv(), tmp_path / "run.npz"
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=20), seed=0)

    def pressed_twice(agent, episode):
        if episode.env_steps == 150:
            signal.raise_signal(signal.SIGINT)  # the request: stop at the end of this step ...
            signal.raise_signal(signal.SIGINT)  # ... and the user who will not wait

    with pytest.raises(KeyboardInterrupt):
        agent.train(env, 1000, callback=pressed_twice, verbose=0, checkpoint_path=path, checkpoint_every=100)
    assert DQNAgent.load(path).num_steps == 100  # the last periodic checkpoint, left as it was
    assert "interrupted" not in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_training_in_a_thread_leaves_sigint_alone(tmp_path):
    """Only the main thread may set a signal handler: a run in another thread trains as usual."""
    import threading

    env, errors = ConstantEnv(), []
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=20), seed=0)

    def train():
        try:
            agent.train(env, 100, verbose=0)
        except Exception as error:  # noqa: BLE001 -- handed to the main thread to fail the test
            errors.append(error)

    thread = threading.Thread(target=train)
    thread.start()
    thread.join(timeout=60)
    assert not errors and agent.num_steps == 100
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_in_the_middle_of_a_periodic_save_still_ends_with_a_good_checkpoint(tmp_path, monkeypatch, capsys):
    env, path = ConstantEnv(), tmp_path / "run.npz"
    real_fsync, calls = os.fsync, []

    def fsync_pressed_once(fd):
        calls.append(fd)
        if len(calls) == 1:
            signal.raise_signal(signal.SIGINT)  # the first write's data is not yet on disk
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_pressed_once)
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=20), seed=0)
    agent.train(env, 1000, verbose=0, checkpoint_path=path, checkpoint_every=100)
    assert agent.num_steps == 101 and "interrupted at env step 101" in capsys.readouterr().out
    assert DQNAgent.load(path).num_steps == 101 and os.listdir(tmp_path) == ["run.npz"]
    assert _state(DQNAgent.load(path)) == _state(agent)


# --- the divergence guard ----------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_non_finite_loss_stops_training_at_once_saying_when_and_what_to_try():
    env = ConstantEnv(reward=1e30)  # (1e30)² overflows float32: the first TD loss is inf
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=10), seed=0)
    with pytest.raises(DivergenceError, match=r"diverged at env step \d+ \(update 1\): the TD loss is inf"
                                              r"\. Try a lower lr .*max_grad_norm.*loss='huber'.*No checkpoint"):
        agent.train(env, 1000, verbose=0)
    assert isinstance(DivergenceError("x"), FloatingPointError)


def test_a_nan_weight_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    env, path = ConstantEnv(), tmp_path / "run.npz"

    def poison(agent, episode):
        if episode.env_steps >= 250:
            agent.online.flat_params[0] = np.nan

    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=20), seed=0)
    with pytest.raises(DivergenceError, match=f"env step 251 .*TD loss is nan.*last good checkpoint, {path}, is left"):
        agent.train(env, 1000, callback=poison, verbose=0, checkpoint_path=path, checkpoint_every=100)
    kept = DQNAgent.load(path)
    assert kept.num_steps == 200 and np.all(np.isfinite(kept.online.flat_params))


def test_a_non_finite_weight_is_never_checkpointed_even_before_learning_starts(tmp_path):
    env, path = ConstantEnv(), tmp_path / "run.npz"

    def poison(agent, episode):
        if episode.env_steps >= 150:
            agent.target.flat_params[-1] = np.inf  # no gradient step yet: no loss to notice it

    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=10_000), seed=0)
    with pytest.raises(DivergenceError, match="env step 200 .*parameter or an Adam moment is NaN or infinite"):
        agent.train(env, 1000, callback=poison, verbose=0, checkpoint_path=path, checkpoint_every=100)
    assert DQNAgent.load(path).num_steps == 100
    with pytest.raises(DivergenceError, match="env step 1,200 .*No checkpoint was written"):
        agent.train(env, 1000, verbose=0)  # without checkpoints, the check runs when train ends


def _trained(dueling: bool) -> DQNAgent:
    env = ConstantEnv()
    config = DQNConfig(hidden_sizes=(4,), buffer_size=16, batch_size=4, learning_starts=8, dueling=dueling)
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=1)
    agent.train(env, 60, verbose=0)
    return agent


@pytest.mark.parametrize("dueling", [False, True])
def test_save_and_load_keep_the_head_and_every_q_value(tmp_path, dueling):
    agent = _trained(dueling)
    agent.save(tmp_path / "agent.npz")
    loaded = DQNAgent.load(tmp_path / "agent.npz")
    assert loaded.config.dueling is dueling and loaded.online.dueling is dueling and loaded.target.dueling is dueling
    obs = np.linspace(-1, 1, 10, dtype=np.float32)[:, None]
    np.testing.assert_array_equal(loaded.q_values(obs), agent.q_values(obs))
    assert _state(loaded) == _state(agent)


def _as_version_6(meta, arrays):
    """What minidqn wrote before return distributions and noisy layers."""
    meta["format"] = "minidqn.DQNAgent/6"
    for name in ("distribution", "num_atoms", "v_min", "v_max", "noisy", "noisy_sigma0"):
        del meta["config"][name]


def _as_version_5(meta, arrays):
    """What minidqn wrote before convolutional networks: the observation's length, not its shape."""
    _as_version_6(meta, arrays)
    meta["format"] = "minidqn.DQNAgent/5"
    meta["obs_dim"] = meta.pop("obs_shape")[0]
    del meta["config"]["conv_layers"], meta["config"]["compact_observations"]


def _as_version_3(meta, arrays):
    """What minidqn wrote before the schedules counted env steps and each part saved itself:
    ε annealed over exploration_fraction of the first train() call, whose length was `horizon`."""
    _as_version_5(meta, arrays)
    config = meta["config"]
    meta["horizon"] = config.pop("lr_decay_steps")
    config["exploration_fraction"] = config.pop("exploration_steps") / meta["horizon"]
    meta.update(format="minidqn.DQNAgent/3", adam_t=meta["optimizer"]["t"], adam_lr=meta["optimizer"]["lr"],
                replay_obs_dim=meta["buffer"]["obs_dim"])
    meta["rng_states"] = {"act": meta["rng_states"]["rng"], "replay": meta["rng_states"]["replay_rng"],
                          "env": meta["rng_states"]["env_rng"]}
    for part in ("online", "target", "optimizer", "buffer", "n_step"):
        del meta[part]
    old = {"online": "online.params", "target": "target.params", "adam_m": "optimizer.m.0",
           "adam_v": "optimizer.v.0", "replay": "buffer.rows"}
    new = {name: arrays[key] for name, key in old.items()}
    arrays.clear()
    arrays.update(new)


@pytest.mark.parametrize("version", [2, 3, 5, 6])
def test_older_checkpoints_load_through_their_upgrades(tmp_path, version):
    agent = _trained(dueling=False)
    agent.save(tmp_path / "now.npz")

    def as_older(meta, arrays):
        {6: _as_version_6, 5: _as_version_5}.get(version, _as_version_3)(meta, arrays)
        if version == 2:  # before DQNConfig.dueling existed: every agent had the plain head
            meta["format"] = "minidqn.DQNAgent/2"
            del meta["config"]["dueling"]

    _rewrite(tmp_path / "now.npz", tmp_path / "old.npz", as_older)
    loaded = DQNAgent.load(tmp_path / "old.npz")
    assert loaded.config == agent.config and loaded.config.dueling is False
    assert _state(loaded) == _state(agent)


def test_a_version_1_q_learning_checkpoint_loads_with_its_counters(tmp_path):
    env = gym.make("FrozenLake-v1")
    agent = QLearningAgent(env.observation_space, env.action_space, seed=0)
    agent.train(env, 300, verbose=0)
    agent.save(tmp_path / "now.npz")

    def as_version_1(meta, arrays):
        meta["format"] = "minidqn.QLearningAgent/1"
        meta["env_steps"], meta["episodes_done"] = meta.pop("num_steps"), meta.pop("num_episodes")
        del meta["num_updates"], meta["discretizer"]

    _rewrite(tmp_path / "now.npz", tmp_path / "old.npz", as_version_1)
    loaded = QLearningAgent.load(tmp_path / "old.npz")
    assert (loaded.num_steps, loaded.num_updates, loaded.num_episodes) == (300, 300, agent.num_episodes)
    np.testing.assert_array_equal(loaded.q, agent.q)
