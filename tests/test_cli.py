"""The command line end to end, as a user runs it: train, evaluate, record, resume, plot, and its errors."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from minidqn import DQNAgent, DQNConfig
from minidqn.agents.policy import GreedyPolicy
from minidqn.cli.commands import build_parser, run
from minidqn.cli.presets import PRESETS, preset_for
from minidqn.cli.run_reading import register_minatar
from minidqn.training.history import History

TINY = ["--learning-starts", "100", "--eval-every", "300", "--eval-episodes", "3", "--verbose", "0"]


@pytest.fixture(scope="module")
def cartpole_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    summary = run(["train", "CartPole-v1", "--steps", "900", "--out", str(out), "--lr-end", "none", *TINY])
    return out, summary


def test_train_writes_the_run_folder_a_user_is_promised(cartpole_run):
    out, _ = cartpole_run
    for name in ("agent.npz", "policy.npz", "run.json", "history.csv", "evaluations.csv", "learning_curve.png",
                 "summary.json"):
        assert (out / name).stat().st_size > 0, name
    agent = DQNAgent.load(out / "agent.npz")
    assert agent.num_steps == 900 and agent.config.lr_end is None  # `none` reached the config
    history = History.from_csv(out / "history.csv")
    assert len(history) == agent.num_episodes and history.env_steps[-1] <= 900
    saved = json.loads((out / "summary.json").read_text())
    assert saved["target"] == 475 and saved["solved"] == bool(np.mean(saved["returns"]) >= 475)
    assert len(saved["returns"]) == 3 == saved["final_evaluation"]["episodes"]
    assert json.loads((out / "run.json").read_text())["env_id"] == "CartPole-v1"
    steps = [float(line.split(",")[0]) for line in (out / "evaluations.csv").read_text().splitlines()[1:]]
    assert len(steps) == 2 and 300 <= steps[0] < 600 <= steps[1] < 900  # at the first episode end past each 300


def test_evaluate_prints_mean_and_std_for_a_folder_an_agent_or_a_policy(cartpole_run, capsys):
    out, _ = cartpole_run
    by_folder = run(["evaluate", str(out), "--episodes", "4", "--seed", "2"])
    by_agent = run(["evaluate", str(out / "agent.npz"), "--episodes", "4", "--seed", "2"])
    np.testing.assert_array_equal(by_folder, by_agent)  # the policy file acts as the agent does
    text = capsys.readouterr().out
    assert f"mean {by_folder.mean():.1f} ± {by_folder.std():.1f} (std)" in text and "needs a mean ≥ 475" in text


def test_record_draws_cartpole_without_pygame(cartpole_run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)  # CartPole is drawn by matplotlib from its state
    out, _ = cartpole_run
    run(["record", str(out), "--out", str(tmp_path / "cartpole.gif"), "--max-steps", "30"])
    assert (tmp_path / "cartpole.gif").read_bytes()[:6] == b"GIF89a"


def test_record_draws_any_env_that_renders_rgb_frames(tmp_path):
    pytest.importorskip("pygame")  # gymnasium's renderer for Acrobot
    run(["train", "Acrobot-v1", "--steps", "300", "--out", str(tmp_path), *TINY])
    total = run(["record", str(tmp_path), "--out", str(tmp_path / "acrobot.gif"), "--max-steps", "20"])
    assert (tmp_path / "acrobot.gif").read_bytes()[:6] == b"GIF89a" and total == -20.0  # 20 steps of −1


def test_resume_trains_on_and_appends_to_the_record(tmp_path):
    # the defaults: short episodes at first, so evaluations fall after the resumed call's 900
    run(["train", "CartPole-v1", "--preset", "defaults", "--steps", "600", "--out", str(tmp_path), *TINY])
    first = History.from_csv(tmp_path / "history.csv")
    run(["resume", str(tmp_path), "--steps", "400", "--verbose", "0"])
    both = History.from_csv(tmp_path / "history.csv")
    assert DQNAgent.load(tmp_path / "agent.npz").num_steps == 1000
    assert both.episode[: len(first)] == first.episode and both.episode == list(range(1, len(both) + 1))
    steps = [float(line.split(",")[0]) for line in (tmp_path / "evaluations.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps) and steps[-1] >= 900


def test_resume_after_a_crash_drops_the_records_past_the_last_checkpoint(tmp_path):
    run(["train", "CartPole-v1", "--steps", "600", "--out", str(tmp_path), *TINY])
    agent = DQNAgent.load(tmp_path / "agent.npz")
    with open(tmp_path / "history.csv", "a") as f:  # rows a crashed run wrote after its checkpoint
        f.write(f"{agent.num_episodes + 1},9.0,9,609,0.5,0.001,1.0,1.0,1.0,0.1\n")
    run(["resume", str(tmp_path), "--steps", "300", "--verbose", "0"])
    history = History.from_csv(tmp_path / "history.csv")
    assert history.episode == list(range(1, len(history) + 1))  # no episode number twice
    assert 609 not in history.env_steps or history.episode_length[history.env_steps.index(609)] != 9


def test_a_policy_file_on_its_own_needs_the_env_named(cartpole_run, tmp_path, capsys):
    out, _ = cartpole_run
    (tmp_path / "policy.npz").write_bytes((out / "policy.npz").read_bytes())  # no run.json beside it
    with pytest.raises(SystemExit, match="give --env-id"):
        run(["evaluate", str(tmp_path / "policy.npz")])
    returns = run(["evaluate", str(tmp_path / "policy.npz"), "--env-id", "CartPole-v1", "--episodes", "2"])
    assert returns.shape == (2,)


def test_plot_redraws_the_figure_from_a_saved_history(cartpole_run, tmp_path):
    out, _ = cartpole_run
    run(["plot", str(out / "history.csv"), "--out", str(tmp_path / "again.png")])
    assert (tmp_path / "again.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class _NoThreshold(gym.Env):
    """A two-action env registered without a reward threshold: reward 1 for action 1, 20 steps."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(2, self.t / 20, np.float32), float(action), False, self.t >= 20, {}


def test_an_env_without_a_reward_threshold_reports_returns_and_no_verdict(tmp_path, capsys):
    gym.register("minidqn-test/NoThreshold-v0", entry_point=_NoThreshold)
    summary = run(["train", "minidqn-test/NoThreshold-v0", "--steps", "400", "--out", str(tmp_path), *TINY])
    text = capsys.readouterr().out
    assert summary["solved"] is None and summary["target"] is None and "no reward threshold" in text
    assert "SOLVED" not in text and "not solved" not in text
    given = run(["train", "minidqn-test/NoThreshold-v0", "--steps", "400", "--out", str(tmp_path / "given"),
                 "--target", "1", *TINY])
    assert given["solved"] is True  # every return of 20 steps is at least 1


def test_a_discrete_observation_env_is_one_hot_encoded_by_the_command_line(tmp_path):
    run(["train", "FrozenLake-v1", "--steps", "300", "--out", str(tmp_path), *TINY])
    policy = GreedyPolicy.load(tmp_path / "policy.npz")
    assert policy.obs_dim == 16


def test_the_preset_is_the_starting_point_and_a_flag_changes_one_field(tmp_path):
    run(["train", "CartPole-v0", "--steps", "200", "--out", str(tmp_path), "--gamma", "0.9", *TINY])
    config = DQNAgent.load(tmp_path / "agent.npz").config
    assert config == DQNConfig(**{**PRESETS["CartPole-v0"].config.__dict__, "gamma": 0.9, "learning_starts": 100})
    run(["train", "CartPole-v1", "--preset", "defaults", "--steps", "200", "--out", str(tmp_path / "d"), *TINY])
    config = DQNAgent.load(tmp_path / "d" / "agent.npz").config  # DQNConfig(), its schedules spread over 200 steps
    assert config == DQNConfig(learning_starts=100, lr_decay_steps=200, priority_beta_steps=200) != PRESETS[
        "CartPole-v1"].config


def test_the_rainbow_preset_turns_on_all_six_parts_over_the_envs_preset(tmp_path, capsys):
    for env_id in ("CartPole-v1", "Acrobot-v1", "MinAtar/Breakout-v1", "MyEnv-v0"):
        base = "defaults" if env_id == "CartPole-v1" else "env"  # Rainbow on CartPole: over DQNConfig(), as measured
        env_preset, rainbow = preset_for(env_id, base), preset_for(env_id, "rainbow")
        config = rainbow.config
        assert (config.distribution, config.noisy, config.prioritized_replay, config.n_step, config.double_dqn,
                config.dueling) == ("categorical", True, True, 3, True, True)
        assert config.priority_beta_steps == rainbow.steps == env_preset.steps and not config.compact_observations
        assert (config.hidden_sizes, config.gamma, config.lr) == (env_preset.config.hidden_sizes,
                                                                   env_preset.config.gamma, env_preset.config.lr)
    assert (preset_for("CartPole-v1", "rainbow").config.v_min, preset_for("CartPole-v1", "rainbow").config.v_max) == (
        0.0, 200.0)
    assert preset_for("Acrobot-v1", "rainbow").config.v_max == 0.0
    run(["train", "CartPole-v1", "--preset", "rainbow", "--steps", "200", "--out", str(tmp_path), "--v-max", "150",
         *TINY])
    config = DQNAgent.load(tmp_path / "agent.npz").config
    assert config.distribution == "categorical" and config.noisy and config.v_max == 150.0  # a flag still changes one
    assert "Rainbow's six parts" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        run(["train", "CartPole-v1", "--preset", "rainbw"])
    assert "argument --preset: invalid choice: 'rainbw'" in capsys.readouterr().err


def test_train_help_shows_the_envs_preset_values():
    text = " ".join(build_parser("LunarLander-v3").format_help().split())  # the top level
    train_help = " ".join(build_parser("LunarLander-v3")._subparsers._group_actions[0].choices["train"]
                          .format_help().split())
    assert "train" in text
    widths = " ".join(map(str, PRESETS["LunarLander-v3"].config.hidden_sizes))
    assert PRESETS["LunarLander-v3"].config.hidden_sizes != DQNConfig().hidden_sizes  # so the check means something
    assert f"widths of the hidden ReLU layers (default: {widths})" in train_help
    assert f"budget, {preset_for('LunarLander-v3').steps:,})" in train_help


@pytest.mark.parametrize("argv, message", [
    (["train", "NoSuchEnv-v0"], "cannot make 'NoSuchEnv-v0'"),
    (["train", "CartPole-v1", "--gamma", "3"], "DQNConfig.gamma must be a number in"),
    (["train", "Pendulum-v1", "--steps", "10"], "Discrete"),
    (["evaluate", "no/such/run"], "No such file"),
    (["resume", "no/such/run", "--steps", "10"], "holds no run.json"),
])
def test_bad_input_exits_with_a_message_naming_it(argv, message, tmp_path):
    with pytest.raises(SystemExit) as stop:
        run([*argv, *(["--out", str(tmp_path)] if argv[0] == "train" else [])])
    assert message in str(stop.value)


def test_bad_flags_exit_through_argparse_naming_the_flag(capsys):
    with pytest.raises(SystemExit):
        run(["train", "CartPole-v1", "--steps", "0"])
    assert "--steps" in capsys.readouterr().err


def test_python_dash_m_minidqn_lists_the_presets_and_exits_zero():
    result = subprocess.run([sys.executable, "-m", "minidqn", "presets"], check=False, capture_output=True, text=True,
                            env={**os.environ, "MPLBACKEND": "Agg"}, timeout=120)
    assert result.returncode == 0 and all(name in result.stdout for name in PRESETS)


BLAS_SCRIPT = """
import json
import gymnasium as gym, numpy as np  # NumPy first, as the README's example imports it
from threadpoolctl import threadpool_info
from minidqn import DQNAgent, DQNConfig

def blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

seen = []
env = gym.make("CartPole-v1")
agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=50), seed=0)
before = blas_threads()
agent.train(env, 200, verbose=0, callback=lambda agent, episode: seen.append(blas_threads()))
print(json.dumps([before, seen[0], blas_threads()]))
"""


@pytest.mark.parametrize("user_setting", [None, "2"])
def test_training_runs_blas_on_one_thread_unless_the_user_chose(user_setting):
    env = {key: value for key, value in os.environ.items() if key not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    if user_setting is not None:
        env["OPENBLAS_NUM_THREADS"] = user_setting
    result = subprocess.run([sys.executable, "-c", BLAS_SCRIPT], check=True, capture_output=True, text=True, env=env,
                            timeout=120)
    before, during, after = json.loads(result.stdout)
    assert before == after  # the threads it had are given back
    assert during == ([1] * len(before) if user_setting is None else before)


def test_lunarlander_trains_briefly_from_its_preset(tmp_path):
    pytest.importorskip("Box2D")  # the box2d extra
    summary = run(["train", "LunarLander-v3", "--steps", "600", "--out", str(tmp_path), "--eval-every", "600",
                   "--eval-episodes", "1", "--verbose", "0"])
    assert summary["env_steps"] == 600 and summary["target"] == 200
    # the preset, its ε schedule and warm-up spread over the 600 steps asked for instead of its 100,000
    preset = PRESETS["LunarLander-v3"].config
    assert DQNAgent.load(tmp_path / "agent.npz").config == replace(
        preset, exploration_steps=round(preset.exploration_steps * 600 / 100_000), learning_starts=60)


def test_every_preset_names_a_registered_env_and_fits_its_spaces():
    find_spec = __import__("importlib").util.find_spec
    for env_id, preset in PRESETS.items():
        assert preset.name == env_id and preset.steps >= 1
        if env_id.startswith("MinAtar/"):  # registered by the minatar extra; its games set no threshold
            if find_spec("minatar") is None:
                continue
            register_minatar()
        else:
            assert gym.spec(env_id).reward_threshold is not None
        gym.spec(env_id)  # raises for an id gymnasium does not know
        if env_id.startswith("LunarLander") and find_spec("Box2D") is None:
            continue
        env = gym.make(env_id)
        DQNAgent(env.observation_space, env.action_space, preset.config)  # the network fits the env
    assert preset_for("NoPreset-v0").config == DQNConfig() and preset_for("NoPreset-v0").name == "defaults"


# --- a run folder keeps what it holds --------------------------------------------------------------
def test_train_refuses_a_folder_that_holds_a_run_unless_told_to_overwrite(tmp_path):
    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), *TINY])
    before = {name: (folder / name).read_bytes() for name in ("history.csv", "agent.npz", "run.json")}
    with pytest.raises(SystemExit, match="holds a run already .*--overwrite"):
        run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), "--seed", "1", *TINY])
    assert {name: (folder / name).read_bytes() for name in before} == before  # nothing touched
    run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), "--seed", "1", "--overwrite", *TINY])
    assert json.loads((folder / "run.json").read_text())["seed"] == 1


def test_an_overwrite_that_fails_before_training_leaves_the_old_run(tmp_path):
    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), *TINY])
    before = (folder / "history.csv").read_bytes()
    with pytest.raises(SystemExit):  # the agent cannot be made: Pendulum's actions are not Discrete
        run(["train", "Pendulum-v1", "--steps", "300", "--out", str(folder), "--overwrite", *TINY])
    assert (folder / "history.csv").read_bytes() == before


@pytest.mark.parametrize("out", ["", ".", "FILE"])
def test_train_refuses_an_out_that_is_no_folder_of_its_own(out, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("not a folder")
    (tmp_path / "history.csv").write_text("someone's records")
    with pytest.raises(SystemExit, match="--out"):
        run(["train", "CartPole-v1", "--steps", "300", "--out", out, *TINY])
    assert (tmp_path / "history.csv").read_text() == "someone's records"


@pytest.mark.parametrize("failing", ["history.csv", "evaluations.csv"])
def test_resume_replaces_its_records_whole_or_not_at_all(failing, tmp_path, monkeypatch):
    """A disk that fills while the records are rewritten leaves the old files whole (in place, the
    rewrite would have cut history.csv short)."""
    from minidqn.common import checkpoint

    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "400", "--out", str(folder), *TINY])
    before = {name: (folder / name).read_bytes() for name in ("history.csv", "evaluations.csv")}
    write_atomically = checkpoint.write_atomically

    def disk_full_halfway(path, write):
        if Path(path).name != failing:
            return write_atomically(path, write)

        def write_half(f):
            f.write(b"episode,return\n1,")
            raise OSError(28, "No space left on device")
        write_atomically(path, write_half)

    monkeypatch.setattr(checkpoint, "write_atomically", disk_full_halfway)
    monkeypatch.setattr("minidqn.training.history.write_atomically", disk_full_halfway)
    with pytest.raises(SystemExit, match="minidqn resume: .*No space"):  # one line, as every error
        run(["resume", str(folder), "--steps", "200"])
    assert (folder / failing).read_bytes() == before[failing]
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".tmp") == []  # no half-written leftovers


# --- a run folder is data ------------------------------------------------------------------------
def test_an_env_id_in_run_json_is_never_imported(tmp_path, monkeypatch):
    """A run folder that ships a Python file and names it in run.json: evaluate refuses, imports nothing."""
    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), *TINY])
    (folder / "planted.py").write_text("import pathlib\npathlib.Path(__file__).with_name('RAN').write_text('x')\n")
    settings = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**settings, "env_id": "planted:CartPole-v1"}))
    monkeypatch.syspath_prepend(str(folder))
    for command in (["evaluate", str(folder)], ["resume", str(folder), "--steps", "10"]):
        with pytest.raises(SystemExit, match="names a module to import.*--env-id"):
            run(command)
    assert not (folder / "RAN").exists()
    returns = run(["evaluate", str(folder), "--episodes", "2", "--env-id", "CartPole-v1"])  # the user's own choice
    assert len(returns) == 2


@pytest.mark.parametrize("change, message", [
    ({"max_episode_steps": -1}, "max_episode_steps must be a positive integer"),
    ({"target": "nan"}, "target must be a finite number"),
    ({"eval_every": 0}, "eval_every must be a positive integer"),
    ({"env_id": "NoSuchEnv-v9"}, "not a registered gymnasium env"),
    ({"env_id": 7}, "env_id must be a gymnasium id"),
])
def test_run_json_values_are_checked_and_named(change, message, tmp_path):
    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), *TINY])
    settings = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**settings, **change}))
    with pytest.raises(SystemExit, match=f"run.json.*{message}"):
        run(["resume", str(folder), "--steps", "10"])


@pytest.mark.parametrize("contents", [b'{"env_id": "CartPole-v1", "seed"', b"[1, 2]", b"\xff\xfe not text"])
def test_a_broken_run_json_is_one_clear_error(contents, tmp_path):
    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), *TINY])
    (folder / "run.json").write_bytes(contents)
    with pytest.raises(SystemExit, match="run.json"):
        run(["evaluate", str(folder)])


# --- what the command line says is true ------------------------------------------------------------
def test_plot_draws_the_file_it_is_given_and_takes_a_run_folder(tmp_path, monkeypatch):
    from minidqn.pictures import plotting
    from minidqn.training.history import History

    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "400", "--out", str(folder), *TINY])
    assert run(["plot", str(folder), "--out", str(tmp_path / "folder.png")]).exists()
    short = History()
    short.append(History.from_csv(folder / "history.csv")[0])
    short.to_csv(folder / "other.csv")
    drawn = []
    monkeypatch.setattr(plotting, "plot_learning_curve", lambda history, path, *rest, **options: drawn.append(history))
    run(["plot", str(folder / "other.csv"), "--out", str(tmp_path / "other.png")])
    assert len(drawn[0]) == 1  # other.csv's one row, not history.csv's


def test_resume_trains_on_from_the_checkpoint_it_is_given(tmp_path, capsys):
    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "400", "--out", str(folder), *TINY])
    agent = DQNAgent.load(folder / "agent.npz")
    agent.num_steps = 123  # a different checkpoint: the counter tells which one was loaded
    agent.save(tmp_path / "backup.npz")
    import shutil

    shutil.copy(tmp_path / "backup.npz", folder / "backup.npz")
    summary = run(["resume", str(folder / "backup.npz"), "--steps", "50", "--verbose", "0"])
    assert summary["env_steps"] == 123 + 50 and "from " + str(folder / "backup.npz") in capsys.readouterr().out


def test_evaluate_says_what_it_read_and_refuses_a_policy_older_than_its_agent(tmp_path, capsys):
    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "400", "--out", str(folder), *TINY])
    run(["evaluate", str(folder), "--episodes", "2"])
    assert f"reading {folder / 'policy.npz'}" in capsys.readouterr().out
    os.utime(folder / "policy.npz", (1, 1))  # as a run stopped before its end leaves it
    with pytest.raises(SystemExit, match="policy.npz is older than .*agent.npz"):
        run(["evaluate", str(folder)])
    assert len(run(["evaluate", str(folder / "agent.npz"), "--episodes", "2"])) == 2


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_target_that_is_no_finite_number_is_refused(value, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "CartPole-v1", f"--target={value}"])
    assert "--target: expected a finite number" in capsys.readouterr().err


def test_a_misspelt_env_id_leaves_no_empty_run_folder(tmp_path):
    with pytest.raises(SystemExit, match="CartPle-v1"):
        run(["train", "CartPle-v1", "--steps", "10", "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()
