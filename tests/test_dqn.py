"""The DQN agent: configuration, TD targets, gradients, target updates, checkpoints, learning."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from envs import OneStateEnv
from gymnasium import spaces

from minidqn.agents.config import DQNConfig
from minidqn.agents.dqn import DQNAgent
from minidqn.agents.keras_rl import keras_rl_target_update
from minidqn.nn.gradcheck import numerical_gradient, relative_error
from minidqn.training.history import Episode, History

BOX2 = spaces.Box(-1.0, 1.0, (2,), np.float32)


def _agent(config=None, obs_dim=2, n_actions=2, seed=0):
    box = spaces.Box(-1.0, 1.0, (obs_dim,), np.float32)
    return DQNAgent(box, spaces.Discrete(n_actions), config or DQNConfig(), seed=seed)


@pytest.mark.parametrize(
    "field, value",
    [("gamma", 1.5), ("lr", 0.0), ("batch_size", 0), ("buffer_size", 2.5), ("learning_starts", -1),
     ("tau", 0.0), ("tau", 1.5), ("loss", "l1"), ("hidden_sizes", ()), ("hidden_sizes", (64, 0)),
     ("epsilon_end", -0.1), ("exploration", "softmax"), ("temperature", 0.0), ("epsilon_decay", 1.0),
     ("max_grad_norm", 0.0), ("dtype", "float16"), ("train_freq", True)],
)
def test_config_rejects_bad_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"DQNConfig.{field} must be"):
        DQNConfig(**{field: value})


def test_config_rejects_batch_larger_than_buffer():
    with pytest.raises(ValueError, match="batch_size.*buffer_size"):
        DQNConfig(batch_size=64, buffer_size=32)


def test_keras_rl_target_update_mapping():
    assert keras_rl_target_update(0.01) == {"tau": 0.01, "target_update_interval": 1}
    assert keras_rl_target_update(500) == {"tau": 1.0, "target_update_interval": 500}
    DQNConfig(**keras_rl_target_update(500))  # a valid config either way
    with pytest.raises(ValueError, match="target_model_update"):
        keras_rl_target_update(0)


@pytest.mark.parametrize(
    "obs_space, act_space, match",
    [(spaces.Discrete(4), spaces.Discrete(2), "Box observation"),
     (spaces.Box(0, 1, (4, 4)), spaces.Discrete(2), "Box observation"),
     (spaces.Dict({"a": BOX2}), spaces.Discrete(2), "Box observation"),
     (BOX2, spaces.Box(-1, 1, (1,)), "Discrete"),
     (BOX2, spaces.MultiDiscrete([2, 2]), "Discrete"),
     (BOX2, spaces.Discrete(3, start=1), "Discrete")],
)
def test_unsupported_spaces_are_rejected(obs_space, act_space, match):
    with pytest.raises(ValueError, match=match):
        DQNAgent(obs_space, act_space)


def test_train_refuses_an_env_of_other_sizes():
    agent = _agent(obs_dim=3)
    with pytest.raises(ValueError, match="built for"):
        agent.train(gym.make("CartPole-v1"), 10, verbose=0)


def test_act_refuses_bad_observations():
    agent = _agent()
    with pytest.raises(ValueError, match="shape"):
        agent.act(np.zeros(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        agent.act(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="epsilon"):
        agent.act(np.zeros(2), epsilon=2.0)


def test_act_is_greedy_at_zero_and_random_at_one():
    agent = _agent(n_actions=4)
    obs = np.array([0.3, -0.2], np.float32)
    greedy = int(np.argmax(agent.q_values(obs)))
    assert all(agent.act(obs) == greedy for _ in range(20))
    counts = np.bincount([agent.act(obs, epsilon=1.0) for _ in range(4000)], minlength=4)
    assert np.all(np.abs(counts - 1000) < 150)


def _set_identity_nets(agent):
    """Q_online(s) = relu(s); Q_target(s) = relu(s) with the two actions swapped."""
    for net, W2 in ((agent.online, np.eye(2)), (agent.target, np.array([[0.0, 1.0], [1.0, 0.0]]))):
        net.params[0][:] = np.eye(2)
        net.params[1][:] = 0.0
        net.params[2][:] = W2
        net.params[3][:] = 0.0


@pytest.mark.parametrize("double_dqn, expected", [(True, [0.5, 1.0]), (False, [1.0, 1.0])])
def test_td_target_on_a_hand_made_batch(double_dqn, expected):
    agent = _agent(DQNConfig(hidden_sizes=(2,), gamma=0.5, n_step=1, double_dqn=double_dqn, dueling=False,
                             dtype="float64"))
    _set_identity_nets(agent)
    next_obs = np.array([[1.0, 2.0], [3.0, 0.5]])
    # Online picks a′ = [1, 0]; the target's values are [[2, 1], [0.5, 3]].
    # Double: y = r + γ·(1 − term)·Q_target(s′, a′) = [0 + 0.5·1, 1 + 0] = [0.5, 1].
    # Vanilla: y = r + γ·(1 − term)·max Q_target(s′) = [0 + 0.5·2, 1 + 0] = [1, 1].
    y = agent.td_target(np.array([0.0, 1.0]), next_obs, np.array([0.0, 1.0]))
    np.testing.assert_allclose(y, expected)


@pytest.mark.parametrize("n_step", [1, 3])
def test_td_target_ignores_the_next_state_only_on_termination(n_step):
    agent = _agent(DQNConfig(gamma=0.99, n_step=n_step, dtype="float64"))
    next_obs = np.array([[0.2, -0.4], [0.2, -0.4]])
    y = agent.td_target(np.array([1.0, 1.0]), next_obs, np.array([1.0, 0.0]))
    next_value = agent.target(next_obs[:1])[0, np.argmax(agent.online(next_obs[:1]))]
    assert y[0] == 1.0
    assert y[1] == pytest.approx(1.0 + 0.99**n_step * next_value)  # the bootstrap is discounted by γⁿ


@pytest.mark.parametrize("truncate, flag", [(True, 0.0), (False, 1.0)])
def test_train_stores_terminated_not_truncated(truncate, flag):
    env = OneStateEnv(truncate)
    config = DQNConfig(learning_starts=100, n_step=1)
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    agent.train(env, 5, verbose=0)
    assert agent.buffer.rows()[:, -1].tolist() == [flag] * 5


@pytest.mark.parametrize("truncate, true_q, n_step, length",
                         [(True, 1 / (1 - 0.9), 1, 1), (False, 1.0, 1, 1), (True, 1 / (1 - 0.9), 3, 5),
                          (False, 1.0, 3, 1)])
def test_dqn_learns_the_correct_value_through_a_time_limit(truncate, true_q, n_step, length):
    """Q converges to 1/(1 − γ) = 10 when the episode is truncated, and to 1 when it
    terminates; treating the time limit as a termination would give 1 in both cases. With
    3-step returns the same holds: R = 1 + γ + γ² and y = R + γ³·Q."""
    env = OneStateEnv(truncate, length)
    config = DQNConfig(hidden_sizes=(8,), gamma=0.9, lr=3e-3, batch_size=16, learning_starts=16,
                       tau=0.1, exploration="constant", epsilon_end=0.5, double_dqn=False, n_step=n_step,
                       dueling=False)
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    agent.train(env, 2500, verbose=0)
    q = agent.q_values(np.array([0.5], np.float32))
    np.testing.assert_allclose(q, [true_q, true_q], rtol=0.05)


@pytest.mark.parametrize("loss", ["huber", "mse", "categorical", "quantile"])
@pytest.mark.parametrize("double_dqn, dueling", [(True, False), (False, False), (True, True), (True, "max"),
                                                (True, "naive")])
def test_dqn_loss_gradient_matches_finite_difference_and_spares_the_target(loss, double_dqn, dueling, rng,
                                                                          record_grad_error):
    """Each head's loss (one Q: MSE, Huber; a distribution: C51, QR-DQN, with 5 atoms on [-3, 3])."""
    kind = dueling if isinstance(dueling, str) else "avg"
    distribution = loss if loss in ("categorical", "quantile") else None
    config = DQNConfig(hidden_sizes=(6, 5), loss="mse" if distribution else loss, double_dqn=double_dqn,
                       dueling=bool(dueling), dueling_type=kind, dtype="float64", distribution=distribution,
                       num_atoms=5, v_min=-3.0, v_max=3.0)
    agent = _agent(config, obs_dim=3, n_actions=4)
    agent.target.flat_params += rng.normal(scale=0.1, size=agent.target.num_params)
    B = 8
    batch = (rng.normal(size=(B, 3)), rng.integers(0, 4, B), rng.normal(size=B),
             rng.normal(size=(B, 3)), (rng.random(B) < 0.3).astype(float))
    target_before = agent.target.flat_params.copy()
    targets = agent.td_target(*batch[2:])  # y is a constant of the loss: fixed before perturbing
    _, grad_q, _, _ = agent.head.loss(agent.online.forward(batch[0]), batch[1], targets, None)  # as train() does
    agent.online.backward(grad_q, input_grad=False)
    analytic = agent.online.flat_grads.copy()

    def loss_of_online_params():
        return agent.head.loss(agent.online(batch[0]), batch[1], targets, None)[0]

    error = relative_error(analytic, numerical_gradient(loss_of_online_params, agent.online.flat_params))
    record_grad_error(f"DQN loss ({loss}{f', dueling {kind}' * bool(dueling)}) dL/dθ", error)
    assert error < 1e-6
    assert np.all(agent.target.flat_grads == 0)
    np.testing.assert_array_equal(agent.target.flat_params, target_before)


@pytest.mark.parametrize("distribution", [None, "categorical", "quantile"])
def test_one_update_lowers_the_td_loss_on_a_fixed_batch(rng, distribution):
    agent = _agent(DQNConfig(lr=1e-3, dtype="float64", distribution=distribution, v_min=-5.0, v_max=5.0),
                   obs_dim=3, n_actions=2)
    obs, actions = rng.normal(size=(32, 3)), rng.integers(0, 2, 32)
    y = agent.td_target(rng.normal(size=32), rng.normal(size=(32, 3)), np.zeros(32))
    before, grad_q, _, _ = agent.head.loss(agent.online.forward(obs), actions, y, None)
    agent.online.backward(grad_q)
    agent.optimizer.step([agent.online.flat_grads])  # the target net is untouched: same y
    assert agent.head.loss(agent.online.forward(obs), actions, y, None)[0] < before


def _trained_for(config, env_steps):
    """A fresh agent on OneStateEnv after `env_steps` env steps (gradient steps start after 8)."""
    env = OneStateEnv(False)
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    target_before = agent.target.flat_params.copy()
    agent.train(env, env_steps, verbose=0)
    return agent, target_before


def test_hard_target_update_copies_exactly_every_c_gradient_steps():
    config = DQNConfig(tau=1.0, target_update_interval=3, batch_size=8, learning_starts=8, n_step=1)
    agent, initial = _trained_for(config, 10)  # 2 gradient steps
    assert agent.num_updates == 2
    np.testing.assert_array_equal(agent.target.flat_params, initial)  # not yet
    assert not np.array_equal(agent.online.flat_params, initial)
    agent.train(OneStateEnv(False), 1, verbose=0)  # the 3rd
    np.testing.assert_array_equal(agent.target.flat_params, agent.online.flat_params)
    agent.online.flat_params += 1.0  # a copy, not an alias
    assert not np.array_equal(agent.target.flat_params, agent.online.flat_params)


def test_soft_target_update_is_exact_each_gradient_step():
    config = DQNConfig(tau=0.05, batch_size=8, learning_starts=8, n_step=1)
    agent, _ = _trained_for(config, 9)  # one gradient step
    old_target = agent.target.flat_params.copy()
    agent.train(OneStateEnv(False), 1, verbose=0)  # the next one
    expected = (1 - 0.05) * old_target + 0.05 * agent.online.flat_params
    np.testing.assert_array_equal(agent.target.flat_params, expected)


def test_epsilon_schedules():
    linear = _agent(DQNConfig(exploration_steps=50, epsilon_end=0.05))
    assert linear.epsilon(0) == 1.0 and linear.epsilon(25) == pytest.approx(0.525)
    assert linear.epsilon(50) == pytest.approx(0.05)
    assert _agent(DQNConfig(exploration="constant", epsilon_end=0.1)).epsilon(123) == 0.1
    expo = _agent(DQNConfig(exploration="exponential", epsilon_decay=0.5, epsilon_end=0.01))
    assert expo.epsilon(2) == 0.25 and expo.epsilon(100) == 0.01


def test_second_train_call_continues_counters_and_schedule():
    env = OneStateEnv(True)
    config = DQNConfig(learning_starts=10, epsilon_end=0.05, n_step=1, batch_size=8)  # one-step episodes: store every step
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    agent.train(env, 30, verbose=0)
    history = agent.train(env, 20, verbose=0)
    assert agent.num_steps == 50 and agent.num_updates == 40 and agent.num_episodes == 50
    assert history.env_steps == list(range(31, 51)) and history.episode == list(range(31, 51))


def test_schedules_do_not_depend_on_how_training_is_split():
    """500 then 2,500 env steps give the ε and lr of one 3,000-step call at every step (each
    step of OneStateEnv is an episode, so the history has them all): the schedules count env
    steps over the agent's life, not a share of one call."""
    env = OneStateEnv(False)
    config = DQNConfig(exploration_steps=1_000, lr_decay_steps=2_000, learning_starts=100, hidden_sizes=(4,))
    one = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    whole = one.train(env, 3_000, verbose=0)
    two = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    first, second = two.train(env, 500, verbose=0), two.train(env, 2_500, verbose=0)
    assert first.epsilon + second.epsilon == whole.epsilon
    assert first.learning_rate + second.learning_rate == whole.learning_rate
    assert whole.epsilon[500] == pytest.approx(0.55) and whole.epsilon[-1] == pytest.approx(config.epsilon_end)
    assert whole.learning_rate[-1] == pytest.approx(config.lr_end)


def test_callback_returning_false_stops_training():
    env = OneStateEnv(False)
    agent = DQNAgent(env.observation_space, env.action_space, seed=0)
    history = agent.train(env, 100, callback=lambda agent, episode: episode.env_steps < 7, verbose=0)
    assert agent.num_steps == 7 and len(history) == 7


def test_same_seed_same_run_different_seed_different_run():
    def run(seed):
        env = gym.make("CartPole-v1")
        agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=100), seed=seed)
        return agent.train(env, 600, verbose=0), agent

    (h1, a1), (h2, a2), (h3, _) = run(3), run(3), run(4)
    np.testing.assert_equal(dataclasses.asdict(h1) | {"wall_time": 0}, dataclasses.asdict(h2) | {"wall_time": 0})
    np.testing.assert_array_equal(a1.online.flat_params, a2.online.flat_params)
    assert h1.episode_return != h3.episode_return


def test_history_writes_csv(tmp_path):
    history = History()
    history.append(Episode(1, 10.0, 10, 10, 0.5, 0.002, float("nan"), float("nan"), float("nan"), 0.01))
    history.append(Episode(2, 12.0, 12, 22, 0.4, 0.001, 0.25, 3.5, 7.25, 0.02))
    history.to_csv(tmp_path / "h.csv")
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "episode,episode_return,episode_length,env_steps,epsilon,learning_rate,mean_loss,mean_q,max_q,wall_time"
    assert lines[2] == "2,12.0,12,22,0.4,0.001,0.25,3.5,7.25,0.02"


def test_save_load_gives_identical_q_values_and_actions(tmp_path, rng):
    agent = _agent(DQNConfig(hidden_sizes=(16, 8)), obs_dim=3, n_actions=3, seed=5)
    agent.target.flat_params += 0.5
    agent.save(tmp_path / "agent.npz")
    loaded = DQNAgent.load(tmp_path / "agent.npz")
    obs = rng.normal(size=(50, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.q_values(obs), agent.q_values(obs))
    assert [loaded.act(o) for o in obs] == [agent.act(o) for o in obs]
    np.testing.assert_array_equal(loaded.target.flat_params, agent.target.flat_params)
    assert loaded.config == agent.config


def test_load_refuses_files_that_are_not_checkpoints(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a readable DQNAgent checkpoint"):
        DQNAgent.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a readable DQNAgent checkpoint"):
        DQNAgent.load(tmp_path / "other.npz")


def test_keras_rl_config_is_the_tutorials_agent():
    from minidqn.agents.keras_rl import keras_rl_config

    c = keras_rl_config()
    assert (c.hidden_sizes, c.buffer_size, c.learning_starts, c.lr, c.lr_end) == ((16,), 50_000, 10, 1e-3, None)
    assert (c.tau, c.target_update_interval, c.exploration, c.epsilon_end) == (0.01, 1, "constant", 0.1)
    assert (c.batch_size, c.gamma, c.loss, c.double_dqn, c.max_grad_norm) == (32, 0.99, "mse", True, None)


@pytest.mark.parametrize("truncate, stored, last_rewards", [
    (True, 3, [1 + 0.9 + 0.81] * 3),        # steps 0, 1, 2 of 5; the last two have no 3rd successor
    (False, 5, [2.71, 2.71, 2.71, 1.9, 1.0]),  # a termination flushes 3, 4 with 2 and 1 rewards
])
def test_train_stores_folded_n_step_transitions(truncate, stored, last_rewards):
    env = OneStateEnv(truncate, length=5)
    config = DQNConfig(n_step=3, gamma=0.9, learning_starts=1000, dtype="float64")
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    agent.train(env, 10, verbose=0)  # two episodes of 5 steps
    rows = agent.buffer.rows()  # [obs | a | R | next_obs | terminated]
    assert len(rows) == 2 * stored
    np.testing.assert_allclose(rows[-stored:, 2], last_rewards)
    assert rows[-1, -1] == (0.0 if truncate else 1.0)
