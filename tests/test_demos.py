"""Every demo runs end to end with a tiny budget and writes what it promises."""

import importlib.util
import json
import runpy
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from minidqn import DQNAgent, DQNConfig
from minidqn.cli.run_reading import read_evaluations

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def _main(name):
    return runpy.run_path(str(DEMOS / name), run_name="demo")["main"]


def test_cartpole_demo_runs_and_writes_its_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    result = _main("cartpole.py")(["--steps", "600", "--learning_starts", "100", "--eval-every", "300",
                                   "--eval-episodes", "2", "--out", str(tmp_path), "--verbose", "0"])
    for name in ("learning_curve.png", "cartpole.gif", "agent.npz", "history.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert len(result["returns"]) == 2 and len(result["evaluations"]) >= 1  # at episode ends
    agent = DQNAgent.load(tmp_path / "agent.npz")
    assert agent.config.learning_starts == 100


def test_cartpole_demo_keras_rl_preset_and_time_limit_flag(tmp_path, capsys):
    result = _main("cartpole.py")(["--preset", "keras-rl", "--steps", "300", "--max-episode-steps", "50",
                                   "--out", str(tmp_path), "--no-gif", "--verbose", "0"])
    out = capsys.readouterr().out
    assert "CartPole-v0: the episode is truncated after 50 steps" in out
    assert "≥ 47.5" in out  # 95% of the changed limit
    assert result["config"]["hidden_sizes"] == (16,) and result["config"]["epsilon_end"] == 0.1
    assert len(result["returns"]) == 5  # the tutorial's 5 test episodes
    assert all(r <= 50 for r in result["returns"])


def test_cartpole_demo_refuses_bad_flags(tmp_path):
    with pytest.raises(SystemExit):
        _main("cartpole.py")(["--steps", "0", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="DQNConfig.gamma"):
        _main("cartpole.py")(["--gamma", "2", "--out", str(tmp_path)])


def test_speed_demo_times_minidqn_in_processes_of_its_own(capsys):
    results = _main("speed.py")(["--steps", "300", "--rounds", "2", "--libraries", "minidqn,minidqn as configured"])
    assert set(results) == {"minidqn", "minidqn as configured"}
    assert results["minidqn"]["ratio_to_minidqn"] == 1.0 and results["minidqn"]["train_us_per_step"] > 0
    assert 0 < results["minidqn as configured"]["whole_seconds"] and "round 2:" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        _main("speed.py")(["--libraries", "PyTorch"])


@pytest.mark.parametrize("env_id, warmup", [("CartPole-v1", 1_200), ("MinAtar/Breakout-v1", 5_100)])
def test_step_pieces_times_each_piece_of_a_training_step_and_the_floor(env_id, warmup, capsys):
    if env_id.startswith("MinAtar"):
        pytest.importorskip("minatar")
    times = _main("step_pieces.py")(["--env", env_id, "--warmup", str(warmup), "--number", "3", "--repeat", "1"])
    pieces, floor = times["pieces"], times["floor"]
    assert len(pieces) == 12 and all(us > 0 for us in [*pieces.values(), *floor.values()])
    assert pieces["one gradient step in all (sampling to target update)"] > pieces["sampling a batch"]
    assert ("im2col of a batch of 32: (2048, 36)" in floor) == env_id.startswith("MinAtar")
    out = capsys.readouterr().out
    assert f"| piece of one env step ({env_id}) | µs |" in out and "| backward pass |" in out


def test_benchmark_demo_is_a_sweep_of_seeds_and_writes_its_report(tmp_path, capsys):
    pytest.importorskip("ray")  # the sweep extra
    report = _main("benchmark.py")(["--seeds", "2", "--steps", "1200", "--eval-every", "300", "--workers", "2",
                                    "--learning_starts", "200", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "benchmark.json").read_text())
    assert saved["summary"]["runs"] == 2 == report["summary"]["finished"]
    assert [r["trial"] for r in saved["results"]] == ["seed=0", "seed=1"]
    assert all(len(read_evaluations(tmp_path / "trials" / r["trial"])) >= 3 for r in saved["results"])
    assert saved["config"]["learning_starts"] == 200 and saved["steps"] == 1200
    out = capsys.readouterr().out
    assert "| the preset | 2 of 2 |" in out and "steps to solve" in out


@pytest.mark.parametrize("env_id", ["Acrobot-v1", "MountainCar-v0", "CartPole-v0"])
def test_dqn_runs_on_any_box_discrete_env(env_id):
    env = gym.make(env_id)
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(learning_starts=50, batch_size=32), seed=0)
    agent.train(env, 300, verbose=0)
    assert agent.num_updates == 250
    assert agent.act(env.reset(seed=0)[0]) in range(env.action_space.n)


def test_q_divergence_demo_runs_both_losses(tmp_path):
    runs = _main("q_divergence.py")(["--steps", "900", "--eval-every", "300", "--learning_starts", "100",
                                     "--out", str(tmp_path)])
    assert set(runs) == {"huber, δ = 1", "squared error"}
    assert all(len(rows) >= 1 and "q_pre_terminal" in rows[0] for rows in runs.values())
    assert (tmp_path / "q_divergence.png").stat().st_size > 0


def test_q_divergence_demo_honours_its_loss_flags(tmp_path):
    runs = _main("q_divergence.py")(["--steps", "600", "--eval-every", "300", "--learning-starts", "100",
                                     "--loss", "huber", "--huber-delta", "50", "--out", str(tmp_path)])
    assert set(runs) == {"huber, δ = 50"}


def test_sb3_comparison_is_skipped_with_a_message_when_sb3_is_missing(monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "stable_baselines3", None)  # `import` now fails
    compare = runpy.run_path(str(DEMOS / "benchmark.py"), run_name="demo")["compare_sb3"]
    assert compare(DQNConfig(), "CartPole-v1", 10) == {"skipped": "stable-baselines3 not installed"}
    assert "pip install stable-baselines3" in capsys.readouterr().out


def test_ablation_demo_runs_its_rows_as_a_sweep_and_draws_them(tmp_path, monkeypatch):
    pytest.importorskip("ray")  # the sweep extra
    monkeypatch.setenv("MPLBACKEND", "Agg")
    table = _main("ablation.py")(["--rows", "plain", "trunc = term", "--seeds", "0-1", "--steps", "1200",
                                  "--eval-every", "600", "--workers", "2", "--out", str(tmp_path)])
    assert [row["configuration"] for row in table] == ["plain", "trunc = term"]
    assert all(row["finished"] == 2 and 0 <= row["held"] <= 2 for row in table)
    wrapped = json.loads((tmp_path / "trials" / "trunc_=_term-seed=0" / "run.json").read_text())
    assert wrapped["wrap"] == ["truncation-as-termination"] and wrapped["config"]["n_step"] == 3
    assert (tmp_path / "ablation_cartpole.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_minatar_demo_learns_from_the_grid_and_draws_it(tmp_path, monkeypatch):
    pytest.importorskip("minatar")  # the minatar extra
    monkeypatch.setenv("MPLBACKEND", "Agg")
    result = _main("pixels.py")(["--steps", "1200", "--learning-starts", "300", "--eval-every", "600",
                                  "--eval-episodes", "2", "--buffer-size", "2000", "--out", str(tmp_path),
                                  "--verbose", "0"])
    for name in ("learning_curve.png", "filters.png", "minatar.gif", "agent.npz", "policy.npz", "history.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    agent = DQNAgent.load(tmp_path / "agent.npz")
    assert agent.obs_shape == (10, 10, 4) and agent.n_actions == 6 and agent.num_updates == 1200 - 300
    assert agent.config.conv_layers == ((16, 3),) and agent.config.compact_observations
    assert result["env_id"] == "MinAtar/Breakout-v0" and len(result["returns"]) == 2


def test_minatar_speed_times_minidqn_and_says_when_torch_is_missing(monkeypatch, capsys):
    pytest.importorskip("minatar")
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "torch"
                        else real_find_spec(name, *args))
    rows = _main("pixels_speed.py")(["--frames", "60", "--warmup", "40", "--rounds", "2"])
    assert [row["round"] for row in rows] == [1, 2] and all(row["minidqn_fps"] > 0 for row in rows)
    assert all(row["minidqn_whole_seconds"] > row["minidqn_seconds"] for row in rows)  # the warm-up, and set-up
    assert all("torch_fps" not in row for row in rows)
    assert "torch is not installed" in capsys.readouterr().out


def test_minatar_speed_times_the_pytorch_twin_when_torch_is_installed(capsys):
    pytest.importorskip("minatar")
    pytest.importorskip("torch")
    (row,) = _main("pixels_speed.py")(["--frames", "60", "--warmup", "40", "--rounds", "1"])
    assert row["torch_fps"] > 0 and row["ratio"] == pytest.approx(row["torch_seconds"] / row["minidqn_seconds"])
    assert row["whole_ratio"] == pytest.approx(row["torch_whole_seconds"] / row["minidqn_whole_seconds"])
    assert row["torch_whole_seconds"] > row["torch_seconds"]
    assert "as fast" in capsys.readouterr().out


def test_minatar_speed_refuses_a_warmup_shorter_than_a_batch():
    pytest.importorskip("minatar")
    with pytest.raises(SystemExit):
        _main("pixels_speed.py")(["--warmup", "10"])


def test_pictures_draws_every_picture_from_short_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    written = _main("pictures.py")(["--out", str(tmp_path), "--steps", "1500"])
    names = sorted(path.name for path in written)
    assert names == sorted(["code_map.png"] + [f"start_here_{name}.png" for name in
                                               ("loop", "network", "replay", "target_lag", "moving_target")])
    assert all(path.stat().st_size > 10_000 for path in written)


def test_rainbow_demo_reads_both_distributions_and_the_noise_as_it_trains(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    runs = _main("rainbow.py")(["--steps", "1500", "--every", "500", "--out", str(tmp_path)])  # learns after 1,000
    assert set(runs) == {"C51", "QR-DQN"}
    for seen in runs.values():
        assert list(seen["steps"][:1]) == [0] and len(seen["steps"]) >= 3
        assert seen["outputs"].shape == (len(seen["steps"]), 51) and seen["sigma"].shape == (len(seen["steps"]), 3)
    assert not np.allclose(runs["C51"]["sigma"][0], runs["C51"]["sigma"][-1])  # σ is trained
    for name in ("rainbow_distributions.png", "rainbow_noise.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
