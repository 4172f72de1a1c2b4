"""Nothing an environment, a user or a file does can corrupt a run or a checkpoint.

Each test is one attack: an env that returns NaN or speaks the old gym API, a save that races
another, a crafted file, a config value no run could use. Every refusal must be a ValueError,
TypeError or CheckpointError that names the input, raised before anything good is lost.
"""

import json
import os
import stat
import sys
import threading
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
from minidqn.agents.value_iteration import value_iteration

SMALL = DQNConfig(hidden_sizes=(4,), buffer_size=64, batch_size=4, learning_starts=8)


def _agent(steps: int = 40, config: DQNConfig = SMALL, seed: int = 0) -> DQNAgent:
    env = OneStateEnv(truncate=True, length=5)
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=seed)
    if steps:
        agent.train(env, steps, verbose=0)
    return agent


def _rewrite(source, target, change) -> None:
    """Copy the checkpoint `source` to `target` after `change(meta, arrays)` edits its contents."""
    with np.load(source, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    meta = json.loads(str(arrays.pop("meta")))
    change(meta, arrays)
    np.savez(target, meta=np.array(json.dumps(meta)), **arrays)


class Faulty(gym.Wrapper):
    """OneStateEnv whose step number `at` (counted over the env's life) returns `change(result)`
    instead of the real 5-tuple; with at=None, every step does."""

    def __init__(self, change, at=None, truncate=True, length=5):
        super().__init__(OneStateEnv(truncate, length))
        self.change, self.at, self.steps = change, at, 0

    def step(self, action):
        self.steps += 1
        result = self.env.step(action)
        return self.change(result) if self.at in (None, self.steps) else result


def _nan_obs(result):
    return (np.array([np.nan], np.float32), *result[1:])


# --- 1. two threads saving to one path ---------------------------------------------------------
def test_two_threads_saving_to_one_path_never_fail_or_corrupt_it(tmp_path):
    agent, path = _agent(), tmp_path / "agent.npz"
    errors = []

    def save_many():
        for _ in range(15):
            try:
                agent.save(path)
            except Exception as error:  # noqa: BLE001 - any failure is the test's failure
                errors.append(error)

    threads = [threading.Thread(target=save_many) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert DQNAgent.load(path).num_steps == agent.num_steps
    assert sorted(os.listdir(tmp_path)) == ["agent.npz"]  # no temporary file left behind


# --- 2. NaN or inf from the environment --------------------------------------------------------
@pytest.mark.parametrize("change, match", [
    (_nan_obs, r"observation at env step 25 holds NaN or inf"),
    (lambda r: (np.array([np.inf], np.float32), *r[1:]), r"observation at env step 25 holds NaN or inf"),
    (lambda r: (np.array([1e39]), *r[1:]), r"observation at env step 25 holds NaN or inf \(as float32\)"),
    (lambda r: (r[0], float("nan"), *r[2:]), r"reward nan at env step 25: rewards must be finite"),
    (lambda r: (r[0], -float("inf"), *r[2:]), r"reward -inf at env step 25"),
    (lambda r: (np.zeros(2, np.float32), *r[1:]), r"at env step 25 has shape \(2,\), but .* shape \(1,\)"),
])
def test_a_poisoned_step_stops_training_there_and_the_checkpoint_stays_clean(tmp_path, change, match):
    env, path = Faulty(change, at=25), tmp_path / "run.npz"
    agent = DQNAgent(env.observation_space, env.action_space, SMALL, seed=0)
    with pytest.raises(ValueError, match=match):
        agent.train(env, 100, verbose=0, checkpoint_path=path, checkpoint_every=10)
    saved = DQNAgent.load(path)  # the checkpoint of step 20: nothing of step 25 in it
    assert saved.num_steps == 20 and np.isfinite(saved.buffer.rows()).all()


def test_a_poisoned_observation_in_evaluation_is_refused():
    agent = _agent(steps=0)
    with pytest.raises(ValueError, match="observation in evaluation holds NaN or inf"):
        agent.evaluate(Faulty(_nan_obs), episodes=1)
    with pytest.raises(ValueError, match="reward nan at step 1 of an evaluation episode"):
        agent.evaluate(Faulty(lambda r: (r[0], float("nan"), *r[2:])), episodes=1)


def test_a_nan_state_from_a_reset_is_refused():
    class NaNReset(gym.Wrapper):
        def reset(self, **kwargs):
            return np.array([np.nan], np.float32), {}

    env = NaNReset(OneStateEnv(truncate=True))
    agent = DQNAgent(env.observation_space, env.action_space, SMALL)
    with pytest.raises(ValueError, match="observation at env step 0 holds NaN"):
        agent.train(env, 10, verbose=0)


# --- 3. nothing non-finite is written or loaded ------------------------------------------------
def test_saving_a_diverged_agent_refuses_and_keeps_the_good_checkpoint(tmp_path):
    agent, path = _agent(), tmp_path / "agent.npz"
    agent.save(path)
    good = path.read_bytes()
    agent.online.flat_params[0] = np.nan  # as after a divergence: a "save in finally:" must not win
    with pytest.raises(ValueError, match="refusing to write .*online.params hold NaN or inf"):
        agent.save(path)
    assert path.read_bytes() == good and sorted(os.listdir(tmp_path)) == ["agent.npz"]


@pytest.mark.parametrize("array", ["online.params", "target.params", "optimizer.m.0", "optimizer.v.0",
                                   "buffer.rows"])
def test_a_file_with_nan_or_inf_anywhere_is_refused(tmp_path, array):
    source, target = tmp_path / "good.npz", tmp_path / "bad.npz"
    _agent().save(source)

    def poison(meta, arrays):
        arrays[array] = arrays[array].copy()
        arrays[array].flat[1] = np.inf

    _rewrite(source, target, poison)
    with pytest.raises(CheckpointError, match=f"{array} hold NaN or inf"):
        DQNAgent.load(target)


# --- 4. Adam's second moment overflowing while the loss stays finite ---------------------------
def test_a_gradient_whose_squares_overflow_stops_training_at_that_update(monkeypatch):
    agent = _agent(steps=0, config=DQNConfig(hidden_sizes=(4,), batch_size=4, learning_starts=8, max_grad_norm=None))
    backward = agent.online.backward

    def huge_gradient(*args, **kwargs):  # finite, but its square overflows float32 (3.4e38)
        backward(*args, **kwargs)
        agent.online.flat_grads[0] = 1e20

    monkeypatch.setattr(agent.online, "backward", huge_gradient)
    env = OneStateEnv(truncate=True, length=5)
    with pytest.raises(DivergenceError, match=r"\(update 1\): the gradient norm is inf"):
        agent.train(env, 50, verbose=0)
    assert agent.num_updates == 1 and agent.non_finite() is None  # the step was not taken: θ, m, v finite


# --- 5. saving through a symbolic link ---------------------------------------------------------
@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_saving_through_a_symlink_updates_its_file_and_keeps_the_link_and_the_mode(tmp_path):
    real, link = tmp_path / "real.npz", tmp_path / "link.npz"
    _agent(steps=10).save(real)
    os.chmod(real, 0o640)
    link.symlink_to(real)
    _agent(steps=40).save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert DQNAgent.load(real).num_steps == 40
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640


# --- 6. what a periodic checkpoint resumes exactly ---------------------------------------------
@pytest.mark.parametrize("config", [DQNConfig(hidden_sizes=(8,), learning_starts=50, batch_size=16),
                                    DQNConfig(hidden_sizes=(8,), learning_starts=50, batch_size=16, n_step=3,
                                              prioritized_replay=True, noisy=True, distribution="categorical",
                                              v_min=0.0, v_max=100.0, num_atoms=11)])
def test_a_run_resumed_from_a_periodic_checkpoint_ends_as_the_uninterrupted_run(tmp_path, config):
    """The periodic checkpoint waits for the episode's end, and every episode's reset is seeded by
    the agent: a run that crashed after it, loaded and trained to the same total, ends bit for
    bit as the run that never stopped (weights, replay, every later episode)."""
    path, total = tmp_path / "run.npz", 1000

    def crash_after_600(agent, episode):  # any error but Ctrl-C propagates without a final save
        if episode.env_steps > 600:
            raise RuntimeError("the machine went down")

    env = gym.make("CartPole-v1")
    crashed = DQNAgent(env.observation_space, env.action_space, config, seed=4)
    with pytest.raises(RuntimeError):
        crashed.train(env, total, callback=crash_after_600, verbose=0, checkpoint_path=path, checkpoint_every=300)
    resumed = DQNAgent.load(path)
    assert 300 <= resumed.num_steps < 600 and not resumed.n_step_transitions.pending  # at an episode's end
    later = resumed.train(gym.make("CartPole-v1"), total - resumed.num_steps, verbose=0)
    whole = DQNAgent(env.observation_space, env.action_space, config, seed=4)
    history = whole.train(gym.make("CartPole-v1"), total, verbose=0)
    np.testing.assert_array_equal(resumed.online.flat_params, whole.online.flat_params)
    np.testing.assert_array_equal(resumed.buffer.rows(), whole.buffer.rows())
    assert len(later) >= 2 and later.episode_return == history.episode_return[-len(later):]
    assert later.mean_loss == history.mean_loss[-len(later):]


# --- 7. crafted checkpoint contents ------------------------------------------------------------
@pytest.mark.parametrize("column, value, match", [
    ("action", -1.0, "whole numbers ≥ 0"), ("action", 0.6, "whole numbers ≥ 0"),
    ("action", 2.0, "below n_actions = 2"), ("terminated", 5.0, "terminated column must hold 0 or 1"),
])
def test_crafted_replay_contents_are_refused(tmp_path, column, value, match):
    source, target = tmp_path / "good.npz", tmp_path / "bad.npz"
    _agent().save(source)

    def craft(meta, arrays):
        rows = arrays["buffer.rows"].copy()  # [obs (1) | action | reward | next_obs (1) | terminated]
        rows[0, 1 if column == "action" else 4] = value
        arrays["buffer.rows"] = rows

    _rewrite(source, target, craft)
    with pytest.raises(CheckpointError, match=match):
        DQNAgent.load(target)


@pytest.mark.parametrize("drop", ["bins", "low", "high"])
def test_a_grid_agent_file_missing_part_of_its_grid_is_refused(tmp_path, drop):
    source, target = tmp_path / "good.npz", tmp_path / "bad.npz"
    grid = Discretizer([0.0], [1.0], 4)
    QLearningAgent(spaces.Box(0.0, 1.0, (1,)), spaces.Discrete(2), discretizer=grid).save(source)
    _rewrite(source, target, lambda meta, arrays: arrays.pop(drop))
    with pytest.raises(CheckpointError, match="grid|missing"):
        QLearningAgent.load(target)


def test_a_discrete_agent_file_carrying_grid_arrays_is_refused(tmp_path):
    source, target = tmp_path / "good.npz", tmp_path / "bad.npz"
    QLearningAgent(spaces.Discrete(4), spaces.Discrete(2)).save(source)
    _rewrite(source, target, lambda meta, arrays: arrays.update(bins=np.array([4])))
    with pytest.raises(CheckpointError, match="Discrete agent's file holds the arrays"):
        QLearningAgent.load(target)


# --- 8. the Discretizer ------------------------------------------------------------------------
def test_the_discretizer_refuses_nan_a_wrong_length_and_an_overflowing_grid():
    grid = Discretizer([0.0, 0.0], [1.0, 1.0], 3)
    with pytest.raises(ValueError, match="NaN, which falls in no bin"):
        grid([np.nan, 0.5])
    with pytest.raises(ValueError, match=r"shape \(2,\), got \(1,\)"):
        grid([0.5])
    with pytest.raises(ValueError, match=r"shape \(2,\), got \(3,\)"):
        grid([0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="states, more than a table"):
        Discretizer(np.zeros(8), np.ones(8), 2**10)  # 2⁸⁰ states: int64 would wrap around
    assert grid([np.inf, -np.inf]) == 2 * 3 + 0  # ±inf are beyond the bounds: the edge bins


# --- 9. tabular Q-learning diverging -----------------------------------------------------------
class OneState(gym.Wrapper):
    """OneStateEnv seen as the Discrete state 0, as a table needs; rewards multiplied by `scale`."""

    observation_space = spaces.Discrete(1)

    def __init__(self, env, scale=1.0):
        super().__init__(env)
        self.scale = scale

    def reset(self, **kwargs):
        return 0, self.env.reset(**kwargs)[1]

    def step(self, action):
        _, reward, terminated, truncated, info = self.env.step(action)
        return 0, reward * self.scale, terminated, truncated, info


def test_tabular_training_stops_at_a_nan_reward_and_at_an_overflowing_table(tmp_path):
    agent = QLearningAgent(spaces.Discrete(1), spaces.Discrete(2), seed=0)
    with pytest.raises(ValueError, match="reward nan at env step 3"):
        agent.train(OneState(Faulty(lambda r: (r[0], float("nan"), *r[2:]), at=3)), 50, verbose=0)
    assert np.isfinite(agent.q).all()  # stopped before the update
    huge = OneState(OneStateEnv(truncate=True, length=5), scale=1.7e308)  # finite, but δ² is not
    agent = QLearningAgent(spaces.Discrete(1), spaces.Discrete(2), QLearningConfig(alpha_start=1.0, alpha_end=1.0))
    with pytest.raises(DivergenceError, match="TD loss is inf"):
        agent.train(huge, 50, verbose=0, checkpoint_path=tmp_path / "table.npz")
    assert agent.num_steps == 1 and not (tmp_path / "table.npz").exists()  # δ² = inf at once
    agent.q[0, 0] = np.nan
    with pytest.raises(ValueError, match="refusing to write .*q hold NaN or inf"):
        agent.save(tmp_path / "table.npz")
    assert not (tmp_path / "table.npz").exists()


# --- paths that cannot be written: refused before the first step -------------------------------
@pytest.mark.parametrize("path, match", [("", "not a file name"), ("newdir/", "is a folder"),
                                         ("no/such/folder/agent.npz", "does not exist")])
def test_checkpoint_paths_that_cannot_be_written_are_refused_before_training(path, match):
    agent = _agent(steps=0)
    with pytest.raises(ValueError, match=match):
        agent.train(OneStateEnv(True), 10, verbose=0, checkpoint_path=path)
    assert agent.num_steps == 0


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, where no one can create files")
def test_a_folder_nobody_can_write_to_is_refused_before_training():
    agent = _agent(steps=0)
    with pytest.raises(ValueError, match="cannot be written"):
        agent.train(OneStateEnv(True), 10, verbose=0, checkpoint_path="/proc/minidqn-agent.npz")
    assert agent.num_steps == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_a_read_only_folder_is_refused_before_training(tmp_path):
    os.chmod(tmp_path, 0o555)
    try:
        with pytest.raises(ValueError, match="cannot be written"):
            _agent(steps=0).train(OneStateEnv(True), 10, verbose=0, checkpoint_path=tmp_path / "a.npz")
    finally:
        os.chmod(tmp_path, 0o755)


# --- learning before the buffer holds a batch --------------------------------------------------
def test_learning_starts_zero_with_n_step_returns_waits_for_a_batch():
    env = gym.make("CartPole-v1")
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=0, n_step=3), seed=0)
    agent.train(env, 200, verbose=0)
    assert 0 < agent.num_updates < 200


# --- untrusted files ---------------------------------------------------------------------------
def test_a_compressed_member_is_refused_without_inflating_it(tmp_path):
    source, bomb = tmp_path / "good.npz", tmp_path / "bomb.npz"
    _agent().save(source)
    with zipfile.ZipFile(source) as good, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for name in good.namelist():
            out.writestr(name, good.read(name))
        header = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (50000000,), }"
        out.writestr("padding.npy", header.ljust(127, b" ") + b"\n" + bytes(200_000_000))  # 200 MB of zeros
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(CheckpointError, match="compressed"):
        DQNAgent.load(bomb)


def test_a_header_declaring_more_than_its_member_holds_is_refused(tmp_path):
    source, target = tmp_path / "good.npz", tmp_path / "bad.npz"
    _agent().save(source)
    with zipfile.ZipFile(source) as good, zipfile.ZipFile(target, "w") as out:
        for name in good.namelist():
            data = good.read(name)
            if name == "online.params.npy":  # claim 10¹² floats (4 TB) in the same few bytes
                data = data.replace(b"'shape': (", b"'shape': (1000000000000, ", 1)
            out.writestr(name, data)
    with pytest.raises(CheckpointError, match="cannot hold"):
        DQNAgent.load(target)


@pytest.mark.parametrize("change, match", [
    (lambda m, a: m.update(obs_shape=[10**30]), "parameters, more than"),  # was an OverflowError
    (lambda m, a: m["config"].update(hidden_sizes=[10**6, 10**6]), "hidden_sizes"),  # was a MemoryError
    (lambda m, a: m["config"].update(n_step=10**9), "n_step must be at most"),
    (lambda m, a: m["config"].update(buffer_size=10**30), "buffer_size must be"),
    (lambda m, a: m["buffer"].update(obs_dim=10**20), "obs_dim|rows must be"),
])
def test_crafted_sizes_are_refused_before_anything_is_allocated(tmp_path, change, match):
    source, target = tmp_path / "good.npz", tmp_path / "bad.npz"
    _agent().save(source)
    _rewrite(source, target, change)
    with pytest.raises(CheckpointError, match=match):
        DQNAgent.load(target)


def test_a_record_nested_too_deep_to_parse_is_refused(tmp_path):
    source, target = tmp_path / "good.npz", tmp_path / "bad.npz"
    _agent().save(source)
    with np.load(source, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    text = str(arrays.pop("meta"))
    np.savez(target, meta=np.array(text[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"), **arrays)
    with pytest.raises(CheckpointError, match="not valid JSON"):  # was a RecursionError
        DQNAgent.load(target)


# --- config values no run can use --------------------------------------------------------------
@pytest.mark.parametrize("field, value", [
    ("gamma", 10**400), ("gamma", np.longdouble(0.99)), ("lr", np.longdouble(1e-3)), ("buffer_size", 10**30),
    ("n_step", 10**9), ("learning_starts", 10**400), ("exploration_steps", 10**30),
    ("hidden_sizes", (10**7,)), ("tau", -(10**400)),
])
def test_config_values_beyond_any_run_are_refused_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"DQNConfig.{field} must be"):
        DQNConfig(**{field: value})


def test_a_network_too_large_to_allocate_is_refused_before_allocating():
    with pytest.raises(ValueError, match="parameters, more than"):
        DQNAgent(spaces.Box(-1, 1, (60_000,)), spaces.Discrete(2), DQNConfig(hidden_sizes=(60_000, 60_000)))


# --- environments that do not speak gymnasium's API -------------------------------------------
@pytest.mark.parametrize("change, error, match", [
    (lambda r: (r[0], r[1], r[2] or r[3], r[4]), TypeError, "must return .*4-tuple .* is the old gym API"),
    (lambda r: (r[0], None, *r[2:]), TypeError, "reward None at env step 1: expected one real number"),
    (lambda r: (r[0], np.array([1.0, 2.0]), *r[2:]), TypeError, r"reward array\(\[1., 2.\]\)"),
    (lambda r: (r[0], "1", *r[2:]), TypeError, "reward '1'"),
    (lambda r: (r[0], r[1], 0, r[3], r[4]), TypeError, "terminated = 0 at env step 1: expected True or False"),
])
def test_env_api_mistakes_are_named(change, error, match):
    env = Faulty(change)
    agent = DQNAgent(env.observation_space, env.action_space, SMALL)
    with pytest.raises(error, match=match):
        agent.train(env, 10, verbose=0)


def test_a_reset_returning_only_the_observation_is_named():
    class OldReset(gym.Wrapper):
        def reset(self, **kwargs):
            return self.env.reset(**kwargs)[0]

    env = OldReset(OneStateEnv(True))
    for agent in (DQNAgent(env.observation_space, env.action_space, SMALL),):
        with pytest.raises(TypeError, match=r"must return \(observation, info\).*old gym API"):
            agent.train(env, 10, verbose=0)
        with pytest.raises(TypeError, match=r"must return \(observation, info\)"):
            agent.evaluate(env, episodes=1)


def test_a_zero_dimensional_array_reward_is_accepted_as_its_number():
    env = Faulty(lambda r: (r[0], np.array(1.0), *r[2:]))
    agent = DQNAgent(env.observation_space, env.action_space, SMALL)
    history = agent.train(env, 10, verbose=0)
    assert history.episode_return[0] == 5.0


# --- evaluate, q_values and the tabular agent check the env as train does ----------------------
def test_evaluate_and_q_values_check_the_env_and_the_input():
    agent = _agent(steps=0)
    with pytest.raises(ValueError, match=r"observations of shape \(4,\) and 2 actions; the agent was built for \(1,\) and 2"):
        agent.evaluate(gym.make("CartPole-v1"), episodes=1)
    with pytest.raises(ValueError, match=r"shape \(1,\) or \(B, 1\)"):
        agent.q_values(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN or inf"):
        agent.q_values(np.array([np.nan]))


def test_evaluate_cuts_an_episode_that_never_ends():
    agent = _agent(steps=0)
    endless = OneStateEnv(truncate=True, length=10**9)  # no time limit that a test could wait for
    assert agent.evaluate(endless, episodes=2, max_steps=300).tolist() == [300.0, 300.0]


def test_the_tabular_agent_checks_the_env_in_train_and_evaluate():
    agent = QLearningAgent(spaces.Discrete(16), spaces.Discrete(4))
    taxi = gym.make("Taxi-v3") if "Taxi-v3" in gym.registry else gym.make("Taxi-v4")
    for call in (lambda: agent.train(taxi, 10, verbose=0), lambda: agent.evaluate(taxi, 1, seed=0)):
        with pytest.raises(ValueError, match="the agent was built for Discrete\\(16\\) and Discrete\\(4\\)"):
            call()
    assert agent.num_steps == 0


def test_value_iteration_says_when_an_env_has_no_model():
    with pytest.raises(ValueError, match="has no model"):
        value_iteration(gym.make("CartPole-v1"))


@pytest.mark.parametrize("seed", [-1, "3", 1.5, None, True])
def test_both_agents_validate_their_seed_alike(seed):
    for make in (lambda: DQNAgent(spaces.Box(-1, 1, (2,)), spaces.Discrete(2), SMALL, seed=seed),
                 lambda: QLearningAgent(spaces.Discrete(4), spaces.Discrete(2), seed=seed)):
        with pytest.raises(ValueError, match="seed must be an integer ≥ 0"):
            make()


def test_a_complex_observation_is_refused_not_cast():
    env = Faulty(lambda r: (np.array([0.5 + 2j]), *r[1:]), at=3)
    agent = DQNAgent(env.observation_space, env.action_space, SMALL)
    with pytest.raises(TypeError, match="at env step 3 is not an array of real numbers"):
        agent.train(env, 10, verbose=0)


# --- any edit of a checkpoint's record: it loads and trains, or it is refused ------------------
ODD_VALUES = [None, True, 0, -1, 2, 10**30, 1.5, -0.5, 1e308, "x", [], {}, [1], [-1], {"a": 1}, [4, 4], 2**64]


def _places(record, prefix=()):
    """Every key path into a JSON record: ("config", "gamma"), ("rng_states", "rng", "state"), ..."""
    items = record.items() if isinstance(record, dict) else enumerate(record) if isinstance(record, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _places(value, (*prefix, key))


@pytest.fixture(scope="module")
def record_and_arrays(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "good.npz"
    _agent().save(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    return json.loads(str(arrays.pop("meta"))), arrays


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(ODD_VALUES), st.booleans()), min_size=1, max_size=3))
def test_any_edit_of_a_checkpoint_record_loads_and_trains_or_is_refused(tmp_path, record_and_arrays, edits):
    meta, arrays = json.loads(json.dumps(record_and_arrays[0])), record_and_arrays[1]
    for index, value, delete in edits:
        places = list(_places(meta))
        *parents, key = places[index % len(places)]
        holder = meta
        for parent in parents:
            holder = holder[parent]
        if delete and isinstance(holder, dict):
            del holder[key]
        else:
            holder[key] = json.loads(json.dumps(value))  # a copy: never the same list twice
    path = tmp_path / "edited.npz"
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
    try:
        agent = DQNAgent.load(path)
    except CheckpointError:
        return
    if (agent.obs_dim, agent.n_actions) == (1, 2):  # an edit may have made it an agent for another env
        try:
            agent.train(OneStateEnv(truncate=True, length=5), 20, verbose=0)
        except FloatingPointError:  # an edited lr or γ may diverge; the guard says so
            return
        assert np.isfinite(agent.online.flat_params).all()


def test_save_refuses_a_folder_and_an_empty_name_and_takes_a_name_of_255_bytes(tmp_path):
    agent = _agent(steps=0)
    for path, match in ((tmp_path, "is a folder"), ("", "not a file name"), (tmp_path / "no" / "a.npz", "does not exist")):
        with pytest.raises(ValueError, match=match):
            agent.save(path)
    longest = tmp_path / ("a" * 251 + ".npz")  # 255 bytes, the usual limit: the temporary name must fit too
    agent.save(longest)
    agent.train(OneStateEnv(True), 10, verbose=0, checkpoint_path=longest)
    assert DQNAgent.load(longest).num_steps == 10 and os.listdir(tmp_path) == [longest.name]


def test_the_table_refuses_indices_numpy_would_wrap_around():
    agent = QLearningAgent(spaces.Discrete(4), spaces.Discrete(2))
    for s, a, next_s in ((-1, 0, 0), (0, -1, 0), (0, 0, 4), (4, 0, 0)):
        with pytest.raises(ValueError, match="states must be in 0 … 3 and actions in 0 … 1"):
            agent.update(s, a, 1.0, next_s, False, 0.5)
    with pytest.raises(ValueError, match="s must be a state in 0 … 3"):
        agent.act(-1, 0.0)
    assert not agent.q.any()


@pytest.mark.parametrize("obs", [["0.5"], [None], np.array(["0.5"]), [[0.5], [0.5, 1.0]], np.array([0.5], object)])
def test_observations_that_are_not_real_numbers_are_refused_not_parsed(obs):
    env = Faulty(lambda r: (obs, *r[1:]), at=2)
    agent = DQNAgent(env.observation_space, env.action_space, SMALL)
    with pytest.raises(TypeError, match="at env step 2 is not an array of real numbers"):
        agent.train(env, 10, verbose=0)
