"""Config fields become command-line flags, and flags the user set become config changes."""

import argparse

from minidqn.cli import add_config_flags, config_from_args
from minidqn.config import DQNConfig
from minidqn.tabular import QLearningConfig


def test_config_from_args_replaces_only_the_fields_set():
    parser = argparse.ArgumentParser()
    add_config_flags(parser, DQNConfig)
    args = parser.parse_args(["--lr", "5e-4", "--hidden_sizes", "32", "32", "--double_dqn", "false"])
    config = config_from_args(args, DQNConfig(gamma=0.9))
    assert (config.lr, config.hidden_sizes, config.double_dqn) == (5e-4, (32, 32), False)
    assert config.gamma == 0.9  # not set on the command line: the base keeps its value


def test_prefixes_keep_two_configs_with_the_same_field_names_apart():
    parser = argparse.ArgumentParser()
    add_config_flags(parser, DQNConfig, prefix="dqn.")
    add_config_flags(parser, QLearningConfig, prefix="tabular.")  # both have gamma, epsilon_end
    args = parser.parse_args(["--dqn.gamma", "0.9", "--tabular.gamma", "0.5", "--tabular.alpha_end", "0.05"])
    dqn = config_from_args(args, DQNConfig(), prefix="dqn.")
    tabular = config_from_args(args, QLearningConfig(), prefix="tabular.")
    assert (dqn.gamma, tabular.gamma, tabular.alpha_end) == (0.9, 0.5, 0.05)
    assert dqn.epsilon_end == DQNConfig().epsilon_end
