"""Everything a user passes in is checked at once, with a message naming it: every config field,
the seed, the spaces, train()'s arguments and the observations reaching act()."""

import dataclasses
import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from minidqn import DQNAgent, DQNConfig
from minidqn.agents.tabular import Discretizer, QLearningAgent, QLearningConfig

BOX2 = spaces.Box(-1.0, 1.0, (2,), np.float32)
DQN_FIELDS = [f.name for f in dataclasses.fields(DQNConfig)]
Q_FIELDS = [f.name for f in dataclasses.fields(QLearningConfig)]
# Fields that hold numbers, so that a bool, NaN or infinity is wrong for each of them.
DQN_NUMBERS = [n for n in DQN_FIELDS if n not in ("hidden_sizes", "conv_layers", "loss", "double_dqn", "dueling", "exploration", "dtype",
                                                 "prioritized_replay", "compact_observations", "distribution", "noisy")]


@pytest.mark.parametrize("config_class, name", [(DQNConfig, n) for n in DQN_FIELDS] +
                         [(QLearningConfig, n) for n in Q_FIELDS])
@pytest.mark.parametrize("value", ["0.5", None, [], object()], ids=["str", "None", "list", "object"])
def test_every_config_field_refuses_a_value_of_the_wrong_type_naming_the_field(config_class, name, value):
    if value is None and name in ("lr_end", "max_grad_norm", "distribution"):  # allowed: no decay, no clipping, one Q
        return
    if value == [] and name == "conv_layers":  # no conv layers: the MLP
        return
    with pytest.raises(ValueError, match=rf"{config_class.__name__}\.{name} must be .*, got"):
        config_class(**{name: value})


@pytest.mark.parametrize("conv_layers", [((16,),), ((16, 3, 1),), ((0, 3),), ((16, 0),), ((16, 65),), ((16.0, 3),),
                                         ((True, 3),), (16, 3), "16x3"])
def test_conv_layers_must_be_pairs_of_channels_and_kernel_sizes(conv_layers):
    with pytest.raises(ValueError, match=r"DQNConfig\.conv_layers must be a tuple of up to 100 \(out_channels, "
                                         r"kernel_size\) pairs"):
        DQNConfig(conv_layers=conv_layers)


def test_conv_layers_read_back_from_json_lists_equal_the_config():
    assert DQNConfig(conv_layers=[[16, 3], [8, 2]]) == DQNConfig(conv_layers=((16, 3), (8, 2)))


@pytest.mark.parametrize("config, obs_shape, match", [
    (DQNConfig(conv_layers=((4, 3),)), (4,), r"conv_layers need image observations of shape \(H, W, C\)"),
    (DQNConfig(), (5, 5, 1), "need conv_layers"),
    (DQNConfig(conv_layers=((4, 3), (4, 3))), (4, 6, 1), "3×3 filter does not fit the 2×4 maps"),
    (DQNConfig(conv_layers=((65_536, 1),) * 3), (4, 4, 1), "parameters, more than"),
])
def test_check_network_refuses_what_cannot_be_built_before_allocating(config, obs_shape, match):
    with pytest.raises(ValueError, match=match):
        config.check_network(obs_shape, 2)


@pytest.mark.parametrize("config_class, name", [(DQNConfig, n) for n in DQN_NUMBERS] +
                         [(QLearningConfig, n) for n in Q_FIELDS])
@pytest.mark.parametrize("value", [True, float("nan"), float("inf"), -float("inf")])
def test_every_numeric_field_refuses_bools_nan_and_infinity(config_class, name, value):
    with pytest.raises(ValueError, match=rf"{config_class.__name__}\.{name} must be"):
        config_class(**{name: value})


@pytest.mark.parametrize("field, value", [
    ("hidden_sizes", 64), ("hidden_sizes", "64"), ("hidden_sizes", (64.0,)), ("hidden_sizes", (True,)),
    ("hidden_sizes", (64, -1)), ("double_dqn", "False"), ("double_dqn", 1), ("dueling", "True"), ("dtype", np.float32),
    ("loss", "Huber"), ("exploration", ["linear"]), ("lr", 2.0), ("lr_end", 0.1), ("tau", 0.0),
    ("gradient_steps", 0), ("target_update_interval", 2.0), ("learning_starts", 1.5),
    ("huber_delta", 0.0), ("epsilon_start", 1.5), ("exploration_steps", 0), ("lr_decay_steps", 2.5), ("epsilon_decay", 0.0),
    ("batch_size", np.float64(32)),
])
def test_dqn_config_refuses_specific_bad_values(field, value):
    with pytest.raises(ValueError, match=f"DQNConfig.{field} must be"):
        DQNConfig(**{field: value})


def test_numpy_scalars_are_accepted_and_stored_as_plain_python_values():
    config = DQNConfig(gamma=np.float32(0.5), batch_size=np.int64(8), hidden_sizes=[np.int64(4), 3],
                       double_dqn=np.bool_(True))
    assert config.hidden_sizes == (4, 3) and type(config.batch_size) is int and type(config.gamma) is float
    assert type(config.double_dqn) is bool
    json.dumps(dataclasses.asdict(config))  # what a checkpoint stores
    q_config = QLearningConfig(alpha_decay_episodes=np.int32(10), gamma=np.float16(0.5))
    json.dumps(dataclasses.asdict(q_config))


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_dqn_agent_refuses_a_seed_that_is_not_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match="seed must be an integer ≥ 0"):
        DQNAgent(BOX2, spaces.Discrete(2), seed=seed)


@pytest.mark.parametrize("obs_space, act_space, match", [
    (spaces.Tuple([BOX2, BOX2]), spaces.Discrete(2), "Box observation"),
    (spaces.MultiBinary(4), spaces.Discrete(2), "Box observation"),
    (spaces.Box(0, 255, (8, 8, 3), np.uint8), spaces.Discrete(2), "give the network conv layers"),
    (spaces.Box(-1, 1, (0,)), spaces.Discrete(2), "Box observation"),
    (BOX2, spaces.Tuple([spaces.Discrete(2)]), "Discrete"),
    (BOX2, spaces.MultiBinary(2), "Discrete"),
])
def test_dqn_refuses_tuple_multibinary_image_and_empty_spaces(obs_space, act_space, match):
    with pytest.raises(ValueError, match=match):
        DQNAgent(obs_space, act_space)


@pytest.mark.parametrize("obs_space, act_space, match", [
    (spaces.Tuple([spaces.Discrete(2)]), spaces.Discrete(2), r"Discrete\(n\) observation space"),
    (spaces.MultiBinary(3), spaces.Discrete(2), r"Discrete\(n\) observation space"),
    (spaces.Discrete(3), spaces.MultiBinary(2), r"Discrete\(n\) action spaces"),
    (spaces.Discrete(3), spaces.Tuple([spaces.Discrete(2)]), r"Discrete\(n\) action spaces"),
])
def test_tabular_refuses_tuple_and_multibinary_spaces(obs_space, act_space, match):
    with pytest.raises(ValueError, match=match):
        QLearningAgent(obs_space, act_space)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"total_steps": 0}, ValueError, "total_steps"),
    ({"total_steps": 1.5}, ValueError, "total_steps"),
    ({"callback": 5}, TypeError, "callback must be callable"),
    ({"verbose": 3}, ValueError, "verbose must be 0, 1 or 2"),
    ({"checkpoint_every": 100}, ValueError, "checkpoint_every needs a checkpoint_path"),
    ({"checkpoint_every": 0, "checkpoint_path": "x.npz"}, ValueError, "checkpoint_every must be a positive integer"),
    ({"checkpoint_every": 2.5, "checkpoint_path": "x.npz"}, ValueError, "checkpoint_every must be a positive integer"),
    ({"checkpoint_path": 5}, TypeError, "checkpoint_path must be a str or os.PathLike"),
    ({"checkpoint_path": "/no/such/folder/x.npz"}, ValueError, "folder '/no/such/folder' does not exist"),
])
def test_train_refuses_bad_arguments_before_taking_a_step(tmp_path, kwargs, error, match):
    env = gym.make("CartPole-v1")
    agent = DQNAgent(env.observation_space, env.action_space)
    with pytest.raises(error, match=match):
        agent.train(env, **{"total_steps": 10, "verbose": 0, **kwargs})
    assert agent.num_steps == 0


def test_train_refuses_a_checkpoint_path_that_is_a_folder(tmp_path):
    env = gym.make("CartPole-v1")
    with pytest.raises(ValueError, match="is a folder; give a file name"):
        DQNAgent(env.observation_space, env.action_space).train(env, 10, checkpoint_path=tmp_path)


@pytest.mark.parametrize("obs, match", [
    (np.zeros(3), r"shape \(2,\)"), (np.zeros((1, 2)), r"shape \(2,\)"), ([0.0], r"shape \(2,\)"),
    (np.array([0.0, np.nan]), "NaN or inf"), (np.array([np.inf, 0.0]), "NaN or inf"),
])
def test_act_refuses_wrong_shapes_and_non_finite_observations(obs, match):
    agent = DQNAgent(BOX2, spaces.Discrete(2))
    with pytest.raises(ValueError, match=match):
        agent.act(obs)


@pytest.mark.parametrize("epsilon", [-0.1, 1.1, float("nan"), "0.1", None])
def test_act_refuses_an_epsilon_outside_zero_one(epsilon):
    with pytest.raises(ValueError, match="epsilon must be in"):
        DQNAgent(BOX2, spaces.Discrete(2)).act(np.zeros(2), epsilon=epsilon)


def test_tabular_agent_with_a_discretizer_still_refuses_mismatched_grids():
    with pytest.raises(ValueError, match="4 dimensions"):
        QLearningAgent(spaces.Box(-1, 1, (3,)), spaces.Discrete(2), discretizer=Discretizer([0] * 4, [1] * 4, 2))
