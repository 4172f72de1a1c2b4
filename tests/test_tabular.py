"""Tabular Q-learning, value iteration and the Discretizer: hand-worked updates, tiny MDPs with
known answers, grid edges, bad spaces, save/load, config validation, and the demos end to end."""

import csv
import dataclasses
import importlib.util
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.wrappers import TimeLimit

import minidqn.agents.discretizer
import minidqn.agents.tabular
import minidqn.agents.value_iteration
from minidqn.agents.config import QLearningConfig
from minidqn.agents.discretizer import Discretizer
from minidqn.agents.tabular import QLearningAgent
from minidqn.agents.value_iteration import value_iteration
from minidqn.training.evaluation import evaluate


def evaluate_policy(env, policy, episodes, seed):
    """The returns of the fixed table policy a = policy[s]."""
    return evaluate(env, lambda s: int(policy[s]), episodes, seed)

ROOT = Path(__file__).resolve().parent.parent
DISCRETE2 = spaces.Discrete(2)


class ModelEnv(gym.Env):
    """A toy-text-style env driven by its own model P[s][a] = [(prob, next_state, reward,
    terminated), ...], the format value_iteration reads; every episode starts in state 0."""

    def __init__(self, P: dict):
        self.P = P
        self.observation_space = spaces.Discrete(len(P))
        self.action_space = spaces.Discrete(len(P[0]))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0
        return self.s, {}

    def step(self, a):
        outcomes = self.P[self.s][int(a)]
        i = self.np_random.choice(len(outcomes), p=[prob for prob, *_ in outcomes])
        _, self.s, reward, terminated = outcomes[i]
        return self.s, reward, terminated, False, {}


# Two states, γ = 0.9. In state 0, "wait" (0) stays and "go" (1) moves to state 1, both paying 0.
# In state 1, "stay" (0) pays 1 and stays; "cash in" (1) pays 5 and terminates.
# Closed form: staying forever is worth V(1) = 1/(1 − γ) = 10 > 5, so Q*(1,·) = (10, 5),
# Q*(0,1) = γ·V(1) = 9, Q*(0,0) = γ·V(0) = 8.1.
TWO_STATES = {0: {0: [(1.0, 0, 0.0, False)], 1: [(1.0, 1, 0.0, False)]},
              1: {0: [(1.0, 1, 1.0, False)], 1: [(1.0, 0, 5.0, True)]}}
TWO_STATES_Q_STAR = np.array([[8.1, 9.0], [10.0, 5.0]])


def two_state_env(max_episode_steps: int = 20) -> gym.Env:
    # Staying in state 1 never terminates, so only the time limit ends those episodes.
    return TimeLimit(ModelEnv(TWO_STATES), max_episode_steps=max_episode_steps)


def load_demo(name: str):
    spec = importlib.util.spec_from_file_location(f"demo_{name}", ROOT / "demos" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the update rule ----------------------------------------------------------------------------
def test_update_matches_hand_worked_transition():
    agent = QLearningAgent(DISCRETE2, DISCRETE2, QLearningConfig(gamma=0.9))
    agent.q[:] = [[0.0, 0.5], [0.2, 1.0]]
    # target = 1 + 0.9·max(0.2, 1.0) = 1.9; δ = 1.9 − 0.5 = 1.4; Q ← 0.5 + 0.5·1.4 = 1.2
    td_error = agent.update(0, 1, reward=1.0, next_s=1, terminated=False, alpha=0.5)
    assert td_error == pytest.approx(1.4)
    np.testing.assert_allclose(agent.q, [[0.0, 1.2], [0.2, 1.0]])


def test_td_target_ignores_next_state_on_termination_but_not_on_truncation():
    config = QLearningConfig(gamma=0.9)
    terminated = QLearningAgent(DISCRETE2, DISCRETE2, config)
    terminated.q[:] = [[0.0, 0.5], [0.2, 1.0]]
    # Terminated: target = r = 1, whatever Q(s′,·) holds; δ = 0.5; Q ← 0.5 + 0.5·0.5 = 0.75.
    assert terminated.update(0, 1, 1.0, 1, terminated=True, alpha=0.5) == pytest.approx(0.5)
    assert terminated.q[0, 1] == pytest.approx(0.75)
    # A truncated step is passed as terminated=False: it bootstraps, target = 1 + 0.9·1.0.
    truncated = QLearningAgent(DISCRETE2, DISCRETE2, config)
    truncated.q[:] = [[0.0, 0.5], [0.2, 1.0]]
    assert truncated.update(0, 1, 1.0, 1, terminated=False, alpha=0.5) == pytest.approx(1.4)


def test_q_learning_reaches_q_star_on_a_two_state_mdp():
    """Random behaviour (ε = 1) is enough for off-policy Q-learning to find Q*. The episodes end
    by cashing in or by a 3-step time limit, which cuts most of them short; Q*(1,0) = 10
    is reachable only if the update bootstraps through that truncation: treating the limit as
    terminal pulls Q(1,0) towards 1 (and Q(0,·) with it)."""
    env = two_state_env(max_episode_steps=3)
    config = QLearningConfig(gamma=0.9, alpha_start=0.5, alpha_end=0.5, epsilon_start=1.0,
                             epsilon_end=1.0)
    agent = QLearningAgent(env.observation_space, env.action_space, config, seed=0)
    agent.train(env, episodes=400, verbose=0)
    _, Q_star, policy = value_iteration(env, gamma=0.9)
    np.testing.assert_allclose(Q_star, TWO_STATES_Q_STAR, atol=1e-8)
    np.testing.assert_allclose(agent.q, Q_star, atol=1e-3)
    np.testing.assert_array_equal(agent.greedy_policy(), policy)


# --- value iteration and policy evaluation -------------------------------------------------------
def test_value_iteration_matches_closed_form_on_a_stochastic_mdp():
    """One state. "Try" (0) wins 1 and ends with probability p = 0.25, otherwise stays (the stay
    is listed as two outcomes of 0.375, as FrozenLake lists repeated next states); "quit" (1) ends
    with 0.1. Trying forever is worth V = p + (1 − p)·γ·V, so V = p / (1 − (1 − p)·γ)."""
    p, gamma = 0.25, 0.9
    env = ModelEnv({0: {0: [(p, 0, 1.0, True), (0.375, 0, 0.0, False), (0.375, 0, 0.0, False)],
                        1: [(1.0, 0, 0.1, True)]}})
    V, Q, policy = value_iteration(env, gamma=gamma)
    v_try = p / (1 - (1 - p) * gamma)  # 0.769…
    np.testing.assert_allclose(V, [v_try], atol=1e-9)
    np.testing.assert_allclose(Q, [[v_try, 0.1]], atol=1e-9)
    np.testing.assert_array_equal(policy, [0])


def test_value_iteration_rejects_gamma_one_and_bad_tolerance():
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(two_state_env(), gamma=1.0)
    with pytest.raises(ValueError, match="tol"):
        value_iteration(two_state_env(), tol=0.0)


def test_evaluate_policy_runs_under_the_envs_own_time_limit():
    # Go to state 1 (reward 0), then stay: 1 per step until the 20-step limit, a return of 19.
    returns = evaluate_policy(two_state_env(20), np.array([1, 0]), episodes=3, seed=0)
    np.testing.assert_array_equal(returns, [19.0, 19.0, 19.0])
    # Cash in at once: 0 + 5, terminated after two steps.
    np.testing.assert_array_equal(evaluate_policy(two_state_env(), np.array([1, 1]), 2, 0), [5.0, 5.0])


def test_optimal_policy_always_crosses_the_non_slippery_lake():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    V, _, policy = value_iteration(env, gamma=0.9)
    assert V[0] == pytest.approx(0.9**5)  # six steps to the goal, the reward on the sixth
    assert evaluate_policy(env, policy, episodes=20, seed=0).mean() == 1.0



def test_exact_policy_return_matches_the_time_limit_and_simulation():
    """Go to state 1, then stay: 1 per step after the first, so within H steps the return is
    H − 1 from state 0 and H from state 1; simulation under the same limit agrees."""
    policy = np.array([1, 0])
    V = minidqn.agents.value_iteration.evaluate_policy_exactly(two_state_env(), policy, horizon=20)
    np.testing.assert_allclose(V, [19.0, 20.0])
    assert evaluate_policy(two_state_env(20), policy, episodes=2, seed=0).tolist() == [19.0, 19.0]
    with pytest.raises(ValueError, match="horizon"):
        minidqn.agents.value_iteration.evaluate_policy_exactly(two_state_env(), policy)  # no spec: no limit
    # Slippery FrozenLake: the optimal policy's success rate within the 100-step limit, 74.0%
    # (docs/tabular.md), and 2,000 simulated episodes within 4 standard errors of it.
    env = gym.make("FrozenLake-v1")
    _, _, optimal = value_iteration(env, gamma=0.99)
    success = minidqn.agents.value_iteration.evaluate_policy_exactly(env, optimal)[0]
    assert success == pytest.approx(0.7402, abs=1e-4)
    simulated = evaluate_policy(env, optimal, episodes=2000, seed=0)
    assert abs(simulated.mean() - success) < 4 * np.sqrt(success * (1 - success) / 2000)

# --- ε-greedy, seeding, history ------------------------------------------------------------------
def test_greedy_ties_are_broken_at_random_and_a_unique_best_always_wins():
    agent = QLearningAgent(spaces.Discrete(3), spaces.Discrete(4), seed=0)
    assert {agent.greedy_action(0) for _ in range(200)} == {0, 1, 2, 3}  # all-zero row
    assert len(set(agent.greedy_policy(np.random.default_rng(1)).tolist())) > 1
    agent.q[1] = [0.0, 2.0, 2.0, -1.0]
    assert {agent.greedy_action(1) for _ in range(200)} == {1, 2}
    agent.q[2] = [0.0, 0.0, 3.0, 0.0]
    assert {agent.greedy_action(2) for _ in range(50)} == {2}
    assert {agent.act(2, epsilon=0.0) for _ in range(50)} == {2}
    assert {agent.act(2, epsilon=1.0) for _ in range(200)} == {0, 1, 2, 3}


def test_same_seed_gives_the_same_run_and_history_writes_csv(tmp_path):
    env = gym.make("FrozenLake-v1")
    runs = []
    for seed in (3, 3, 4):
        agent = QLearningAgent(env.observation_space, env.action_space, seed=seed)
        history = agent.train(env, episodes=300, verbose=0)
        runs.append((agent.q.copy(), history.episode_length))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert runs[0][1] != runs[2][1]
    history.to_csv(tmp_path / "history.csv")
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["episode", "episode_return", "episode_length", "env_steps", "epsilon",
                       "learning_rate", "mean_loss", "mean_q", "max_q", "wall_time"]
    assert len(rows) == 301 and int(rows[-1][3]) == agent.num_steps == sum(history.episode_length)
    assert float(rows[1][4]) == 1.0 and float(rows[1][5]) == agent.config.alpha_start


def test_callback_returning_false_stops_training():
    env = gym.make("FrozenLake-v1")
    agent = QLearningAgent(env.observation_space, env.action_space)
    history = agent.train(env, episodes=100, callback=lambda agent, episode: agent.num_episodes < 7,
                          verbose=0)
    assert len(history) == agent.num_episodes == 7


# --- the Discretizer -----------------------------------------------------------------------------
def test_discretizer_bin_edges_and_clipping():
    grid = Discretizer(low=[0.0, -1.0], high=[1.0, 1.0], bins=[4, 2])
    assert grid.n_states == 8
    # An edge belongs to the bin above it; the upper bound itself is clipped into the last bin.
    for x, i in [(0.0, 0), (0.2499, 0), (0.25, 1), (0.5, 2), (0.9999, 3), (1.0, 3)]:
        assert grid.bin_indices([x, 0.0])[0] == i, x
    # Far outside [low, high] lands in the edge bins.
    np.testing.assert_array_equal(grid.bin_indices([-1e9, 1e9]), [0, 1])
    np.testing.assert_array_equal(grid.bin_indices([np.inf, -np.inf]), [3, 0])
    # The row is the C-order (last dimension fastest) flat index of the bins.
    rng = np.random.default_rng(0)
    for obs in rng.uniform(-3, 3, size=(50, 2)):
        assert grid(obs) == np.ravel_multi_index(tuple(grid.bin_indices(obs)), (4, 2))
    assert grid([0.3, 0.5]) == 3 and isinstance(grid([0.3, 0.5]), int)


def test_discretizer_one_bin_ignores_a_dimension_and_bad_grids_are_rejected():
    grid = Discretizer(low=[-1.0, -1.0], high=[1.0, 1.0], bins=[1, 3])
    assert grid([-0.9, 0.0]) == grid([0.9, 0.0]) == 1
    with pytest.raises(ValueError, match="low must be < high"):
        Discretizer([0.0], [0.0], 2)
    with pytest.raises(ValueError, match="finite"):
        Discretizer([-np.inf], [1.0], 2)
    with pytest.raises(ValueError, match="bins"):
        Discretizer([0.0, 0.0], [1.0, 1.0], [2, 0])
    with pytest.raises(ValueError, match="one entry per dimension"):
        Discretizer([0.0, 0.0], [1.0], 2)
    with pytest.raises(ValueError, match="bins must be an int"):
        Discretizer([0.0], [1.0], 2.5)


def test_cartpole_agent_trains_on_a_discretized_box():
    env = gym.make("CartPole-v1")
    grid = Discretizer.for_cartpole()
    agent = QLearningAgent(env.observation_space, env.action_space, seed=0, discretizer=grid)
    assert agent.q.shape == (grid.n_states, 2) == (1 * 6 * 8 * 10, 2)
    agent.train(env, episodes=20, verbose=0)
    assert np.any(agent.q != 0)
    assert agent.evaluate(env, episodes=2, seed=0).shape == (2,)


# --- bad spaces, config validation ----------------------------------------------------------------
@pytest.mark.parametrize("observation_space, discretizer, message", [
    (spaces.Box(-1.0, 1.0, (4,)), None, "without a discretizer"),
    (spaces.Box(-1.0, 1.0, (3,)), Discretizer([0.0] * 4, [1.0] * 4, 2), "4 dimensions"),
    (spaces.Discrete(5), Discretizer([0.0], [1.0], 2), "needs no discretizer"),
    (spaces.Discrete(5, start=1), None, r"Discrete\(n\) observation space"),
    (spaces.MultiDiscrete([3, 3]), None, r"Discrete\(n\) observation space"),
    (spaces.Box(0, 1, (2, 2)), Discretizer([0.0] * 4, [1.0] * 4, 2), "1-D Box"),
])
def test_unsupported_observation_spaces_are_rejected_with_what_is_supported(
    observation_space, discretizer, message
):
    with pytest.raises(ValueError, match=message):
        QLearningAgent(observation_space, DISCRETE2, discretizer=discretizer)


@pytest.mark.parametrize("action_space", [spaces.Box(-1.0, 1.0, (1,)), spaces.Discrete(3, start=-1)])
def test_unsupported_action_spaces_are_rejected_with_what_is_supported(action_space):
    with pytest.raises(ValueError, match=r"supports Discrete\(n\) action spaces"):
        QLearningAgent(DISCRETE2, action_space)


@pytest.mark.parametrize("field, value", [
    ("gamma", 1.01), ("gamma", -0.1), ("alpha_start", 0.0), ("alpha_end", 1.5),
    ("epsilon_start", -0.1), ("epsilon_end", 1.1), ("alpha_decay_episodes", 0),
    ("epsilon_decay_episodes", 2.5), ("epsilon_decay_episodes", True),
])
def test_config_rejects_out_of_range_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"QLearningConfig.{field} must be"):
        QLearningConfig(**{field: value})


def test_config_is_frozen_and_other_arguments_are_checked():
    with pytest.raises(dataclasses.FrozenInstanceError):
        QLearningConfig().gamma = 0.5
    with pytest.raises(TypeError, match="QLearningConfig"):
        QLearningAgent(DISCRETE2, DISCRETE2, config={"gamma": 0.9})
    with pytest.raises(ValueError, match="episodes"):
        QLearningAgent(DISCRETE2, DISCRETE2).train(two_state_env(), episodes=0)


# --- save / load ---------------------------------------------------------------------------------
def test_save_load_round_trip_restores_table_config_counters_and_random_stream(tmp_path):
    env = gym.make("FrozenLake-v1")
    config = QLearningConfig(gamma=0.95, alpha_end=0.05)
    agent = QLearningAgent(env.observation_space, env.action_space, config, seed=7)
    agent.train(env, episodes=50, verbose=0)
    path = tmp_path / "agent.npz"
    agent.save(path)
    loaded = QLearningAgent.load(path)
    np.testing.assert_array_equal(loaded.q, agent.q)
    assert loaded.config == config
    assert (loaded.num_episodes, loaded.num_steps) == (agent.num_episodes, agent.num_steps)
    assert [loaded.act(0, 0.5) for _ in range(30)] == [agent.act(0, 0.5) for _ in range(30)]
    with np.load(path, allow_pickle=False) as data:  # no object arrays inside
        assert all(data[key].dtype != object for key in data.files)


def test_save_load_keeps_the_discretizer_and_rejects_other_files(tmp_path):
    env = gym.make("CartPole-v1")
    agent = QLearningAgent(env.observation_space, env.action_space,
                           discretizer=Discretizer.for_cartpole(bins=(2, 3, 4, 5)))
    agent.q[:] = np.arange(agent.q.size).reshape(agent.q.shape)
    agent.save(tmp_path / "cartpole")  # saved under exactly this name, no ".npz" appended
    loaded = QLearningAgent.load(tmp_path / "cartpole")
    np.testing.assert_array_equal(loaded.discretizer.bins, [2, 3, 4, 5])
    obs = np.array([0.1, -0.3, 0.02, 0.5])
    assert loaded.state_index(obs) == agent.state_index(obs)
    np.testing.assert_array_equal(loaded.q, agent.q)
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a readable QLearningAgent"):
        QLearningAgent.load(tmp_path / "other.npz")



# --- demos ---------------------------------------------------------------------------------------
@pytest.fixture
def agg_backend():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")  # as MPLBACKEND=Agg: draw to files only


def test_frozenlake_demo_runs_end_to_end(tmp_path, agg_backend, capsys):
    demo = load_demo("frozenlake")
    result = demo.main(["--episodes", "200", "--eval-episodes", "100", "--curve-episodes", "10",
                        "--alpha_decay_episodes", "100", "--epsilon_decay_episodes", "100",
                        "--seed", "1", "--out", str(tmp_path)])
    for name in ("frozenlake.png", "history.csv", "q_table.npz"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert 0.0 <= result["success"] <= 1.0 and 0.5 < result["optimal_success"] <= 1.0
    assert QLearningAgent.load(tmp_path / "q_table.npz").num_episodes == 200
    assert "value-iteration optimum" in capsys.readouterr().out


def test_tabular_benchmark_runs_end_to_end(tmp_path):
    benchmark = load_demo("tabular_benchmark")
    results = benchmark.main(["--env-id", "FrozenLake-v1", "Taxi-v4", "--seeds", "1",
                              "--episodes", "30", "--eval-episodes", "20",
                              "--json", str(tmp_path / "results.json")])
    assert [r["env_id"] for r in results] == ["FrozenLake-v1", "Taxi-v4"]
    assert all("gap" in r and r["run_seconds"] > 0 for r in results)
    assert (tmp_path / "results.json").exists()


@pytest.mark.parametrize("low, high", [([-1e308], [1e308]), ([0.0], [1e-320])])
def test_a_span_float64_cannot_hold_is_refused_not_mapped_to_a_wrong_row(low, high):
    with pytest.raises(ValueError, match="finite span"):
        Discretizer(low, high, bins=10)
