"""One agent interface: both agents train by env steps through minidqn.training.run, count alike, return
the same History and print progress the same way."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from envs import OneStateEnv

from minidqn import DQNAgent, DQNConfig, QLearningAgent
from minidqn.training.evaluation import (
    EvaluateEvery,
    evaluate,
    play_episode,
    success_rate,
    value_against_return,
)
from minidqn.training.history import Episode, EpisodeCSV, History


def _agents():
    """A DQN agent on OneStateEnv and a table on FrozenLake, both ready to train."""
    env = OneStateEnv(truncate=True, length=5)
    dqn = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=10, hidden_sizes=(4,)))
    lake = gym.make("FrozenLake-v1")
    table = QLearningAgent(lake.observation_space, lake.action_space, seed=0)
    return [(dqn, env), (table, lake)]


@pytest.mark.parametrize("kind", [0, 1], ids=["dqn", "tabular"])
def test_both_agents_train_by_env_steps_and_count_alike(kind):
    agent, env = _agents()[kind]
    history = agent.train(env, 300, verbose=0)
    assert isinstance(history, History)
    assert agent.num_steps == 300 and agent.num_episodes == len(history) >= 1
    assert history.episode == list(range(1, len(history) + 1))
    assert history.env_steps[-1] <= 300 and sum(history.episode_length) == history.env_steps[-1]
    more = agent.train(env, 100, verbose=0)
    assert agent.num_steps == 400 and more.episode[0] == len(history) + 1  # the counters go on


def test_the_tabular_agent_can_also_train_a_number_of_episodes():
    agent, env = _agents()[1]
    history = agent.train(env, episodes=25, verbose=0)
    assert len(history) == agent.num_episodes == 25 and agent.num_steps == sum(history.episode_length)
    short = agent.train(env, 3, episodes=25, verbose=0)  # whichever budget ends first
    assert agent.num_steps == history.env_steps[-1] + 3 and len(short) <= 3


@pytest.mark.parametrize("kind", [0, 1], ids=["dqn", "tabular"])
@pytest.mark.parametrize("kwargs, error, match", [
    ({"total_steps": 0}, ValueError, "total_steps must be a positive integer"),
    ({"total_steps": 2.5}, ValueError, "total_steps must be a positive integer"),
    ({"total_steps": 10, "verbose": 3}, ValueError, "verbose must be 0, 1 or 2"),
    ({"total_steps": 10, "callback": "stop"}, TypeError, "callback must be callable"),
    ({"total_steps": 10, "checkpoint_every": 5}, ValueError, "checkpoint_every needs a checkpoint_path"),
])
def test_both_agents_refuse_the_same_bad_arguments(kind, kwargs, error, match):
    agent, env = _agents()[kind]
    with pytest.raises(error, match=match):
        agent.train(env, **{"verbose": 0, **kwargs})
    assert agent.num_steps == 0


@pytest.mark.parametrize("kind", [0, 1], ids=["dqn", "tabular"])
def test_progress_says_done_when_a_callback_stops_training_early(kind, capsys):
    agent, env = _agents()[kind]
    agent.train(env, 100_000, callback=lambda agent, episode: agent.num_episodes < 3, verbose=1)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith(f"step {agent.num_steps:>8,}") and last.endswith("done") and "left" not in last


def test_verbose_2_prints_one_line_per_episode_for_both_agents(capsys):
    for agent, env in _agents():
        agent.train(env, episodes=4, verbose=2) if isinstance(agent, QLearningAgent) else agent.train(env, 20, verbose=2)
        lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("episode")]
        assert len(lines) == 4, lines


def test_a_nan_reward_stops_tabular_training_at_that_step():
    class NaNReward(gym.Wrapper):
        def step(self, action):
            obs, _, terminated, truncated, info = self.env.step(action)
            return obs, float("nan"), terminated, truncated, info

    env = NaNReward(gym.make("FrozenLake-v1"))
    agent = QLearningAgent(env.observation_space, env.action_space, seed=0)
    with pytest.raises(ValueError, match="reward nan at env step 1: rewards must be finite"):
        agent.train(env, 100, verbose=0)


def test_evaluate_plays_seeded_episodes_of_any_policy():
    env = gym.make("FrozenLake-v1", is_slippery=False)
    path = [2, 2, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0]  # right, right, down, down, down, right
    np.testing.assert_array_equal(evaluate(env, lambda s: path[s], episodes=3, seed=0), [1.0, 1.0, 1.0])
    assert play_episode(env, lambda s: 0, seed=0) == (0.0, 100, 0.0)  # pushing left into the wall: the time limit
    frames = []
    play_episode(env, lambda s: path[s], seed=0, record=lambda env: frames.append(env.unwrapped.s))
    assert frames == [0, 1, 2, 6, 10, 14, 15]
    assert success_rate(np.array([1.0, 0.0, 1.0, 1.0]), goal=1.0) == 0.75
    with pytest.raises(ValueError, match="episodes"):
        evaluate(env, lambda s: 0, episodes=0, seed=0)


def test_evaluate_every_measures_at_the_first_episode_end_past_each_multiple():
    env = OneStateEnv(truncate=True, length=7)  # episodes end at steps 7, 14, 21, ...
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=1000))
    clock = EvaluateEvery(10, measure=lambda agent, step: step)
    agent.train(env, 50, callback=clock, verbose=0)
    assert clock.points == [10, 20, 30, 40] and clock.steps == [14, 21, 35, 42] == clock.values
    assert clock.first_step_at_least(30) == 35 and clock.first_step_at_least(99) is None
    assert len(clock.train_seconds) == 4 and clock.eval_seconds >= 0
    with pytest.raises(ValueError, match="every"):
        EvaluateEvery(0, measure=lambda agent, step: 0)
    with pytest.raises(ValueError, match="env to evaluate on"):
        EvaluateEvery(10)


def test_the_record_keeps_the_predicted_q_of_each_episode():
    """OneStateEnv terminating every step has Q = 1: the recorded Q of the batches approaches it,
    and the largest is at least the mean; episodes before learning starts have none (NaN)."""
    env = OneStateEnv(truncate=False)
    agent = DQNAgent(env.observation_space, env.action_space,
                     DQNConfig(n_step=1, learning_starts=50, batch_size=16, hidden_sizes=(8,)), seed=0)
    history = agent.train(env, 1500, verbose=0)
    assert np.isnan(history.mean_q[0]) and np.isnan(history.max_q[49])
    assert all(m <= x for m, x in zip(history.mean_q[50:], history.max_q[50:]))
    assert abs(history.mean_q[-1] - 1.0) < 0.05 and abs(history.mean_q[50] - 1.0) > 0.1
    lake = gym.make("FrozenLake-v1", is_slippery=False)  # one reward of 1 at the goal: Q ≤ 1
    table = QLearningAgent(lake.observation_space, lake.action_space, seed=0).train(lake, 2000, verbose=0)
    assert all(m <= x <= 1.0 for m, x in zip(table.mean_q, table.max_q)) and max(table.max_q) > 0


def test_value_against_return_sets_the_prediction_beside_the_discounted_return():
    env = OneStateEnv(truncate=False, length=3)  # rewards 1, 1, 1, then the episode terminates
    returns, discounted, predicted = value_against_return(env, lambda obs: 0, lambda obs: 7.0, 0.5, episodes=2, seed=0)
    assert returns.tolist() == [3.0, 3.0] and discounted.tolist() == [1.75, 1.75]  # 1 + 0.5 + 0.25
    assert predicted.tolist() == [7.0, 7.0]


def test_the_callback_receives_each_finished_episodes_record():
    env = OneStateEnv(truncate=True, length=7)
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=8, batch_size=4))
    seen = []
    history = agent.train(env, 30, callback=lambda agent, episode: seen.append(episode), verbose=0)
    assert [e.env_steps for e in seen] == [7, 14, 21, 28] and all(e.episode_length == 7 for e in seen)
    assert seen == [history[i] for i in range(len(history))]  # the record the history keeps
    assert seen[-1].epsilon == agent.epsilon(28 - 1) and seen[-1].episode_return == 7.0
    assert np.isfinite(seen[-1].mean_loss) and np.isnan(seen[0].mean_loss)  # learning began at step 9


def test_a_list_of_callbacks_runs_each_and_any_false_stops():
    env = OneStateEnv(truncate=True, length=5)
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=1000))
    counted = []
    agent.train(env, 100, callback=[lambda a, e: counted.append(e.episode), lambda a, e: e.episode < 3], verbose=0)
    assert counted == [1, 2, 3] and agent.num_steps == 15


def test_episode_csv_streams_rows_that_read_back_as_the_history(tmp_path):
    path = tmp_path / "history.csv"
    env = OneStateEnv(truncate=True, length=4)
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=2, batch_size=2))
    lines_seen = []

    def look(agent, episode):  # runs after the writer: the row is on disk when the episode ends
        lines_seen.append(len(path.read_text().splitlines()))

    with EpisodeCSV(path) as writer:
        first = agent.train(env, 12, callback=[writer, look], verbose=0)
    with EpisodeCSV(path) as writer:  # a resumed run appends below the rows already there
        second = agent.train(env, 8, callback=writer, verbose=0)
    assert lines_seen == [2, 3, 4]  # the header, then one row per finished episode
    first.extend(second)
    read = History.from_csv(path)
    np.testing.assert_equal(dataclasses.asdict(read), dataclasses.asdict(first))  # nan rows included
    assert read.episode == [1, 2, 3, 4, 5] and isinstance(read.env_steps[0], int)


def test_history_from_csv_skips_a_cut_last_line_and_refuses_other_files(tmp_path):
    path = tmp_path / "h.csv"
    history = History()
    history.append(Episode(1, 10.0, 10, 10, 0.5, 0.002, 0.1, 1.0, 2.0, 0.01))
    history.to_csv(path)
    path.write_text(path.read_text() + "2,12.0,1")  # a crash in the middle of a row
    assert History.from_csv(path).episode == [1]
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a minidqn history"):
        History.from_csv(tmp_path / "other.csv")
    with pytest.raises(ValueError, match="not a minidqn history; refusing"):
        EpisodeCSV(tmp_path / "other.csv")
    assert (tmp_path / "other.csv").read_text() == "a,b\n1,2\n"  # nothing written to it


def test_evaluate_every_for_a_resumed_agent_starts_at_the_next_multiple():
    clock = EvaluateEvery(10, measure=lambda agent, step: step, start=25)
    for step in (27, 29, 31, 44, 52):
        clock.at(None, step)
    assert clock.points == [30, 40, 50] and clock.steps == [31, 44, 52]  # not 10 and 20 at step 27
