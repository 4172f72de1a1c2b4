"""Config fields become command-line flags, and flags the user set become config changes."""

import argparse

import pytest

from minidqn.agents.config import DQNConfig
from minidqn.agents.tabular import QLearningConfig
from minidqn.cli.flags import add_config_flags, config_from_args


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


def test_none_sets_an_optional_field_to_none():
    parser = argparse.ArgumentParser()
    add_config_flags(parser, DQNConfig)
    config = config_from_args(parser.parse_args(["--lr_end", "none", "--max-grad-norm", "None"]), DQNConfig())
    assert config.lr_end is None and config.max_grad_norm is None
    assert DQNConfig().lr_end is not None and DQNConfig().max_grad_norm is not None  # so the change is real


def test_dash_and_underscore_spellings_set_the_same_field():
    parser = argparse.ArgumentParser()
    add_config_flags(parser, DQNConfig)
    dashed = config_from_args(parser.parse_args(["--target-update-interval", "7"]), DQNConfig())
    underscored = config_from_args(parser.parse_args(["--target_update_interval", "7"]), DQNConfig())
    assert dashed == underscored == DQNConfig(target_update_interval=7)


def test_help_shows_each_fields_comment_and_the_value_of_the_starting_point():
    parser = argparse.ArgumentParser()
    add_config_flags(parser, DQNConfig, defaults=DQNConfig(gamma=0.97, hidden_sizes=(256, 256)))
    text = " ".join(parser.format_help().split())  # argparse wraps lines
    assert "γ, discount factor (default: 0.97)" in text
    assert "widths of the hidden ReLU layers (default: 256 256)" in text


def test_every_config_field_has_a_comment_for_its_help():
    from minidqn.cli.flags import field_comments

    for config_cls in (DQNConfig, QLearningConfig):
        assert set(field_comments(config_cls)) == {f.name for f in __import__("dataclasses").fields(config_cls)}


def test_a_bad_value_is_refused_naming_the_flag(capsys):
    parser = argparse.ArgumentParser()
    add_config_flags(parser, DQNConfig)
    with pytest.raises(SystemExit):
        parser.parse_args(["--lr-end", "fast"])
    assert "--lr-end" in capsys.readouterr().err
