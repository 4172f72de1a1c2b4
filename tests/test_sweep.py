"""`minidqn sweep`: the sweep read and checked as data, then real sweeps on a local Ray, with faults."""

import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from minidqn import DQNConfig
from minidqn.cli.commands import run
from minidqn.cli.folder_lock import FolderLock
from minidqn.experiments.sweep_spec import (
    configuration,
    parse_seeds,
    parse_set,
    read_sweep_file,
    sweep_trials,
)

TINY = ["--steps", "400", "--eval-every", "200", "--eval-episodes", "2", "--set", "learning_starts=100"]


# --- the sweep as data -------------------------------------------------------------------------------
@pytest.mark.parametrize("text, seeds", [("0", [0]), ("0-3", [0, 1, 2, 3]), ("0-2,7", [0, 1, 2, 7]), ("5-5", [5])])
def test_seeds_are_read_as_ranges(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["a-b", "3-1", "-2", "0-2,1", ""])
def test_bad_seeds_are_named(text):
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds(text)


def test_set_values_take_their_fields_types():
    assert parse_set("lr=1e-3,2e-3") == ("lr", [0.001, 0.002])
    assert parse_set("n-step=1,3") == ("n_step", [1, 3])
    assert parse_set("double_dqn=true,false") == ("double_dqn", [True, False])
    assert parse_set("lr_end=none,1e-5") == ("lr_end", [None, 1e-5])
    assert parse_set("hidden_sizes=64x64,128") == ("hidden_sizes", [(64, 64), (128,)])


@pytest.mark.parametrize("text, message", [("lrr=1e-3", "'lrr' is not a DQNConfig field; the fields are hidden_sizes"),
                                           ("lr=fast", "'fast' is not a float"), ("lr", "expected KEY=VALUE")])
def test_a_bad_set_is_named_with_the_valid_keys(text, message):
    with pytest.raises(ValueError, match=message):
        parse_set(text)


def test_trials_are_the_product_each_config_built_before_any_runs():
    trials = sweep_trials("CartPole-v1", DQNConfig(), [0, 1, 2], [parse_set("lr=1e-3,2e-3"), parse_set("n_step=1,3")])
    assert len(trials) == 12 and len({t.name for t in trials}) == 12
    assert trials[0].name == "lr=0.001-n_step=1-seed=0" and trials[0].config.lr == 0.001
    with pytest.raises(ValueError, match="cannot run: DQNConfig.gamma must be"):
        sweep_trials("CartPole-v1", DQNConfig(), [0], [parse_set("gamma=0.9,3")])


def test_an_unswept_configuration_is_called_by_what_it_starts_from():
    """Seeds alone group under their base's name: the preset, or the rainbow preset with --preset rainbow."""
    (plain,) = sweep_trials("CartPole-v1", DQNConfig(), [0], [])
    (rainbow,) = sweep_trials("CartPole-v1", DQNConfig(), [0], [], base_name="the rainbow preset")
    (swept,) = sweep_trials("CartPole-v1", DQNConfig(), [0], [parse_set("lr=1e-3")], base_name="the rainbow preset")
    assert [configuration(t) for t in (plain, rainbow, swept)] == ["the preset", "the rainbow preset", "lr=0.001"]


def test_a_sweep_file_names_rows_like_an_ablation(tmp_path):
    path = tmp_path / "ablation.toml"
    path.write_text('env_id = "CartPole-v1"\nsteps = 1000\nseeds = "0-1"\n[set]\nlr = [1e-3]\n'
                    '[[rows]]\nname = "no target network"\nset = {tau = 1.0}\n[[rows]]\nname = "defaults"\n')
    spec = read_sweep_file(path)
    assert spec["steps"] == 1000 and spec["seeds"] == [0, 1] and spec["sets"] == [("lr", [0.001])]
    trials = sweep_trials(spec["env_id"], DQNConfig(), spec["seeds"], spec["sets"], spec["rows"])
    assert [t.name for t in trials] == ["no_target_network-lr=0.001-seed=0", "no_target_network-lr=0.001-seed=1",
                                        "defaults-lr=0.001-seed=0", "defaults-lr=0.001-seed=1"]
    assert trials[0].config.tau == 1.0 and trials[2].config.tau == DQNConfig().tau
    # tables call a row by its name as written, folders by one without spaces
    assert [configuration(t) for t in trials[::2]] == ["no target network, lr=0.001", "defaults, lr=0.001"]
    path.write_text('env_id = "CartPole-v1"\nsteeps = 3\n')
    with pytest.raises(ValueError, match="steeps"):
        read_sweep_file(path)
    path.write_text("env_id = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        read_sweep_file(path)


def test_the_ablation_file_reads_into_its_rows_on_ten_seeds():
    from pathlib import Path

    from minidqn.cli.presets import preset_for
    from minidqn.experiments.sweep_spec import configuration

    spec = read_sweep_file(Path(__file__).resolve().parent.parent / "demos" / "ablation_cartpole.toml")
    base, _ = preset_for(spec["env_id"], spec["preset"]).for_budget(spec["steps"])
    assert base == DQNConfig()  # the file pins the defaults, whatever CartPole's preset is
    trials = sweep_trials(spec["env_id"], base, spec["seeds"], spec["sets"], spec["rows"])
    assert len(trials) == 110 and len({configuration(t) for t in trials}) == 11
    plain = next(t for t in trials if configuration(t) == "plain")
    assert (plain.config.double_dqn, plain.config.dueling, plain.config.n_step) == (False, False, 1)
    assert next(t for t in trials if configuration(t) == "defaults").config == DQNConfig()
    wrapped = [t for t in trials if t.wrap]
    assert {configuration(t) for t in wrapped} == {"trunc = term"} and len(wrapped) == 10
    assert wrapped[0].wrap == ("truncation-as-termination",) and wrapped[0].config == DQNConfig()


def test_a_sweep_file_may_start_from_the_rainbow_preset(tmp_path):
    path = tmp_path / "rainbow.toml"
    path.write_text('env_id = "CartPole-v1"\npreset = "rainbow"\n[[rows]]\nname = "- C51"\n'
                    'set = {distribution = "none", lr_end = "None"}\n')
    spec = read_sweep_file(path)
    assert spec["preset"] == "rainbow" and spec["rows"][0].changes == {"distribution": None, "lr_end": None}
    path.write_text('env_id = "CartPole-v1"\npreset = "rainbw"\n')
    with pytest.raises(ValueError, match="preset must be"):
        read_sweep_file(path)


@pytest.mark.parametrize("row, message", [
    ('wrap = ["time-limit"]', "'time-limit' is not a wrapper minidqn knows; the wrappers are truncation-as-termination"),
    ('wrap = "truncation-as-termination"', "wrap must be a list of wrapper names"),
    ("set = 3", "row 0 is"),
    ('name = "x"\nenv = "Pong"', "row 0 is"),
])
def test_a_bad_row_of_a_sweep_file_is_named(tmp_path, row, message):
    path = tmp_path / "rows.toml"
    path.write_text(f'env_id = "CartPole-v1"\n[[rows]]\n{row}\n')
    with pytest.raises(ValueError, match=re.escape(message)):
        read_sweep_file(path)


@pytest.mark.parametrize("names", [("a b", "a_b"), ("left/right", "left right"), ("twice", "twice")])
def test_rows_that_would_share_a_run_folder_stop_the_sweep_before_anything_is_written(tmp_path, names):
    """Else the second row would find the first's runs in its folder and report them as its own."""
    path = tmp_path / "rows.toml"
    path.write_text('env_id = "CartPole-v1"\nsteps = 300\n' + "".join(
        f'[[rows]]\nname = "{name}"\nset = {{lr = {lr}}}\n' for name, lr in zip(names, (1e-3, 2e-3))))
    with pytest.raises(SystemExit, match=f"rows '{names[0]}' and '{names[1]}' would share the run folder "):
        run(["sweep", str(path), "--out", str(tmp_path / "sweep")])
    assert not (tmp_path / "sweep").exists()


def test_a_misspelt_key_stops_the_sweep_before_anything_is_written(tmp_path):
    with pytest.raises(SystemExit, match="'lrr' is not a DQNConfig field"):
        run(["sweep", "CartPole-v1", "--set", "lrr=1e-3", "--out", str(tmp_path / "sweep")])
    assert not (tmp_path / "sweep").exists()


def test_a_second_sweep_into_a_live_folder_is_refused(tmp_path):
    with FolderLock(tmp_path, "minidqn sweep of 4 trials"), pytest.raises(SystemExit, match="in use by another"):
        run(["sweep", "CartPole-v1", "--out", str(tmp_path), *TINY])


# --- real sweeps on Ray --------------------------------------------------------------------------------
ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "lr"
    rows = run(["sweep", "CartPole-v1", "--seeds", "0-1", "--set", "lr=1e-3,2e-3", "--out", str(out),
                "--workers", "2", *TINY])
    assert not ray.is_initialized()  # the sweep started Ray, and shut it down
    return out, rows


def test_a_sweep_runs_every_trial_into_a_run_folder_and_reads_them(finished_sweep):
    out, rows = finished_sweep
    with open(out / "results.csv", newline="") as f:
        saved = list(csv.DictReader(f))
    assert [r["trial"] for r in rows] == [r["trial"] for r in saved]  # what it returns is what it wrote
    assert [r["trial"] for r in saved] == [f"lr={lr}-learning_starts=100-seed={s}" for lr in ("0.001", "0.002")
                                           for s in (0, 1)]
    assert {r["status"] for r in saved} == {"done"} and {r["env_steps"] for r in saved} == {"400"}
    for r in saved:
        folder = out / "trials" / r["trial"]
        assert json.loads((folder / "run.json").read_text())["seed"] == int(r["seed"])
        assert float(r["final_return"]) == json.loads((folder / "summary.json").read_text())["final_evaluation"]["mean"]
        with open(folder / "history.csv", newline="") as f:
            returns = [float(e["episode_return"]) for e in csv.DictReader(f)]
        assert float(r["training_return"]) == pytest.approx(np.mean(returns[-100:]), abs=1e-4)
    summary = (out / "summary.md").read_text()
    assert summary.count("| lr=0.001, learning_starts=100 | 2 of 2 |") == 2 and "IQM" in summary  # final, training
    assert (out / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_running_a_finished_sweep_again_runs_nothing(finished_sweep, capsys):
    out, _ = finished_sweep
    before = (out / "results.csv").read_text()
    run(["sweep", "CartPole-v1", "--seeds", "0-1", "--set", "lr=1e-3,2e-3", "--out", str(out), *TINY])
    assert "4 finished already; 0 to run" in capsys.readouterr().out and not ray.is_initialized()
    assert (out / "results.csv").read_text() == before
    with pytest.raises(SystemExit, match="holds a different sweep"):
        run(["sweep", "CartPole-v1", "--seeds", "0-2", "--out", str(out), *TINY])


def test_a_failing_trial_is_recorded_and_the_rest_go_on(finished_sweep, tmp_path):
    """One trial's folder holds a broken checkpoint from an earlier attempt: that trial fails,
    with its error in results.csv, and the other three are finished ones, kept."""
    out = tmp_path / "lr"
    shutil.copytree(finished_sweep[0], out)
    broken = out / "trials" / "lr=0.002-learning_starts=100-seed=1"
    (broken / "summary.json").unlink()
    (broken / "agent.npz").write_bytes(b"not a checkpoint")
    run(["sweep", "CartPole-v1", "--seeds", "0-1", "--set", "lr=1e-3,2e-3", "--out", str(out), "--workers", "1",
         *TINY])
    with open(out / "results.csv", newline="") as f:
        saved = {r["trial"]: r for r in csv.DictReader(f)}
    assert saved[broken.name]["status"] == "failed" and "not a readable DQNAgent checkpoint" in saved[broken.name]["error"]
    assert sum(r["status"] == "done" for r in saved.values()) == 3
    assert "| lr=0.002, learning_starts=100 | 1 of 2 |" in (out / "summary.md").read_text()



def test_a_sweep_runs_on_a_cluster_given_by_its_address(tmp_path):
    """A Ray head started apart from the sweep, as on a cluster's first machine. Without --address
    a sweep still starts a Ray of its own (Ray left to itself may join the head `ray start` began,
    and then refuses --workers); with the head's address it joins it, and leaves it running.
    The test ends that head alone, and puts back the record of the last `ray start` (`ray stop`
    would end every Ray on the machine, a study running beside the tests included)."""
    record = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
    before = record.read_text() if record.exists() else None
    with socket.socket() as free:  # a free port for the head
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    head = subprocess.Popen([sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--num-cpus=2",
                             "--include-dashboard=false", f"--port={port}", "--block"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not (record.exists() and record.read_text().strip().endswith(f":{port}")):  # until it is up
            assert time.monotonic() < deadline and head.poll() is None, "the Ray head did not start"
            time.sleep(0.2)
        address = record.read_text().strip()  # HOST:PORT, HOST the machine's own address
        run(["sweep", "CartPole-v1", "--seeds", "0", "--out", str(tmp_path / "here"), *TINY])
        run(["sweep", "CartPole-v1", "--seeds", "0-1", "--out", str(tmp_path / "far"), "--address", address, *TINY])
        for out, runs in (("here", 1), ("far", 2)):
            with open(tmp_path / out / "results.csv", newline="") as f:
                assert [r["status"] for r in csv.DictReader(f)] == ["done"] * runs
        assert not ray.is_initialized() and head.poll() is None  # the head still runs
    finally:
        end_sessions([head.pid])
        head.wait(timeout=30)
        if before is None:
            record.unlink(missing_ok=True)
        else:
            record.write_text(before)


def test_a_sweep_killed_twice_and_resumed_ends_as_an_uninterrupted_one(tmp_path):
    """SIGKILL of the driver, twice, while trials run; the same command then finishes the sweep,
    and results.csv matches a sweep never interrupted, value for value."""
    args = ["--seeds", "0-1", "--set", "lr=1e-3,2e-3", "--steps", "2000", "--eval-every", "1000",
            "--eval-episodes", "2", "--set", "learning_starts=100", "--workers", "1"]
    whole = tmp_path / "whole"
    run(["sweep", "CartPole-v1", "--out", str(whole), *args])
    killed, drivers = tmp_path / "killed", []
    for kill in range(2):
        driver = subprocess.Popen([sys.executable, "-m", "minidqn", "sweep", "CartPole-v1", "--out", str(killed), *args],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        drivers.append(driver.pid)
        deadline = time.monotonic() + 120
        while len(list(killed.glob("trials/*/agent.npz"))) < 1 + 2 * kill:  # a checkpoint of a new trial
            assert time.monotonic() < deadline and driver.poll() is None
            time.sleep(0.1)
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    run(["sweep", "CartPole-v1", "--out", str(killed), *args])  # at once: a killed worker may still hold a trial
    end_sessions(drivers)
    columns = ["trial", "seed", "lr", "learning_starts", "status", "env_steps", "final_return", "steps_to_solve"]
    rows = {}
    for out in (killed, whole):
        with open(out / "results.csv", newline="") as f:
            rows[out.name] = [[r[c] for c in columns] for r in csv.DictReader(f)]
    assert rows["killed"] == rows["whole"] and {r[4] for r in rows["whole"]} == {"done"}


def end_sessions(sessions: list[int], seconds: float = 60) -> None:
    """End every process of these sessions: a Ray head a test started in a session of its own, or
    the Ray a SIGKILLed driver left behind (its GCS, raylet and workers), which would notice and
    exit on its own in about a minute. No other Ray on the machine is touched."""
    for session in sessions:
        subprocess.run(["pkill", "-KILL", "-s", str(session)], capture_output=True, check=False)
    deadline = time.monotonic() + seconds
    while any(subprocess.run(["pgrep", "-s", str(session), "-r", "R,S,D,T"], capture_output=True, check=False).stdout
              for session in sessions):  # -r: running or asleep, not a zombie waiting for its parent
        assert time.monotonic() < deadline, "a test's Ray processes outlived it"
        time.sleep(0.2)


def test_a_trial_stopped_by_ctrl_c_is_an_error_and_goes_on_from_its_checkpoint_next_time(tmp_path, ctrl_c_at_episode_5):
    """SIGINT in a worker stops its trial at the end of a step with a checkpoint: run_trial says
    so as an error (recorded as a failed trial, not a finished one without a final return), and
    the next attempt trains on from the checkpoint to the budget."""
    from minidqn.cli.sweep import run_trial

    (trial,) = sweep_trials("CartPole-v1", DQNConfig(learning_starts=100), [0], [])
    with pytest.raises(RuntimeError, match=r"interrupted at env step \d+ of 600; its checkpoint is kept"):
        run_trial(trial, 600, tmp_path / "trial", eval_every=300, eval_episodes=2)
    ctrl_c_at_episode_5.undo()
    summary = run_trial(trial, 600, tmp_path / "trial", eval_every=300, eval_episodes=2)
    assert not summary["interrupted"] and summary["env_steps"] == 600 and 0 < summary["trained_this_call"] < 600


def test_no_ray_process_is_left_behind():
    """None in this session: the Rays the tests start here (a Ray running beside them, in a session
    of its own, is not theirs to end)."""
    ours = ["pgrep", "-s", str(os.getsid(0)), "-r", "R,S,D,T", "-f", "raylet|gcs_server"]
    assert subprocess.run(ours, capture_output=True, check=False).stdout == b""


def test_a_configuration_is_read_with_its_iqm_and_what_solved():
    from minidqn.cli.sweep import summarize
    from minidqn.stats import iqm

    rows = [{"status": "done", "final_return": value, "training_return": value / 2, "steps_to_solve": solve,
             "solved_at_end": held}
            for value, solve, held in [(500.0, 9000, "yes"), (420.0, 12000, "no"), (10.0, "", "no"), (480.0, 7000, "yes")]]
    rows.append({"status": "failed", "final_return": "", "training_return": "", "steps_to_solve": "", "solved_at_end": ""})
    row = summarize("defaults", rows)
    assert (row["runs"], row["finished"], row["solved"], row["held"]) == (5, 4, 3, 2)
    assert row["median_steps_to_solve"] == 9000 and row["lowest"] == 10.0
    assert row["iqm"] == iqm([500.0, 420.0, 10.0, 480.0]) == 450.0 and row["ci"][0] <= 450.0 <= row["ci"][1]
    assert (row["training_iqm"], row["training_mean"], row["training_lowest"]) == (225.0, 176.25, 5.0)
    no_target = summarize("endless", [{**r, "steps_to_solve": "", "solved_at_end": ""} for r in rows])
    assert (no_target["solved"], no_target["held"], no_target["median_steps_to_solve"]) == (0, 0, None)
    assert row["has_target"] and not no_target["has_target"]  # the summary then says "–", not "0/5 solved"


def test_a_summary_without_a_target_says_so_rather_than_none_solved(tmp_path):
    from minidqn.cli.sweep import write_summary

    trials = sweep_trials("CartPole-v1", DQNConfig(), [0, 1], [])
    rows = [{"status": "done", "final_return": 9.5 + t.seed, "training_return": 7.0, "steps_to_solve": "",
             "solved_at_end": ""} for t in trials]
    write_summary(rows, trials, tmp_path)
    summary = (tmp_path / "summary.md").read_text()
    assert "| 10.0 | 9.5 | – | – |  |" in summary and "0/2" not in summary


def test_seconds_to_solve_are_read_from_the_history_unless_a_resume_restarted_the_clock(tmp_path):
    from minidqn.cli.sweep import seconds_to
    from minidqn.training.history import Episode, History

    def history(times: list[float]) -> None:
        records = History()
        for i, wall_time in enumerate(times):
            records.append(Episode(i + 1, 10.0, 100, 100 * (i + 1), 0.1, 1e-3, 0.5, 1.0, 2.0, wall_time))
        records.to_csv(tmp_path / "history.csv")

    history([1.0, 2.5, 4.0, 5.5])
    assert seconds_to(tmp_path, 300) == 4.0 and seconds_to(tmp_path, 100) == 1.0
    history([1.0, 2.5, 0.5, 2.0])  # resumed after the second episode: its clock started again
    assert seconds_to(tmp_path, 200) == 2.5 and seconds_to(tmp_path, 400) == ""


def test_a_runs_training_return_is_the_mean_of_its_last_100_training_episodes(tmp_path):
    from minidqn.cli.sweep import training_return
    from minidqn.training.history import Episode, History

    records = History()
    for i in range(150):  # returns 0, 1, ..., 149: the last 100 are 50..149, whose mean is 99.5
        records.append(Episode(i + 1, float(i), 10, 10 * (i + 1), 0.1, 1e-3, 0.5, 1.0, 2.0, float(i)))
    records.to_csv(tmp_path / "history.csv")
    assert training_return(tmp_path) == 99.5


def _ablation(file: str) -> tuple:
    """The base config, the trials and {row: config} of the sweep file demos/FILE."""
    from pathlib import Path

    from minidqn.cli.presets import preset_for
    from minidqn.experiments.sweep_spec import configuration

    spec = read_sweep_file(Path(__file__).resolve().parent.parent / "demos" / file)
    base, _ = preset_for(spec["env_id"], spec["preset"]).for_budget(spec["steps"])
    trials = sweep_trials(spec["env_id"], base, spec["seeds"], spec["sets"], spec["rows"])
    return base, trials, {configuration(t): t.config for t in trials}


def test_the_rainbow_ablation_file_takes_one_part_away_per_row():
    base, trials, configs = _ablation("rainbow_ablation_cartpole.toml")
    assert len(trials) == 80 and configs["rainbow"] == base and base.distribution == "categorical" and base.noisy
    assert configs["without C51"].distribution is None and configs["without noisy"].noisy is False
    dqn = configs["DQN"]
    assert (dqn.distribution, dqn.noisy, dqn.prioritized_replay, dqn.n_step, dqn.double_dqn, dqn.dueling) == (
        None, False, False, 1, False, False)


def test_the_minatar_ablation_file_follows_the_papers_protocol_and_ends_on_the_dqn_preset():
    from minidqn.cli.presets import MINATAR

    _, trials, configs = _ablation("rainbow_ablation_minatar.toml")
    assert len(trials) == 9 * 3
    rainbow = configs["rainbow"]
    assert (rainbow.lr, rainbow.train_freq, rainbow.gradient_steps, rainbow.learning_starts) == (1e-4, 4, 1, 1000)
    assert (rainbow.distribution, rainbow.num_atoms, rainbow.v_min, rainbow.v_max) == ("categorical", 51, -100.0, 100.0)
    assert rainbow.noisy and rainbow.prioritized_replay and rainbow.n_step == 3 and rainbow.double_dqn and rainbow.dueling
    for name, config in configs.items():  # each row but the two DQNs takes exactly one part away
        if name.startswith("without"):
            changed = {f for f in ("distribution", "noisy", "prioritized_replay", "n_step", "double_dqn", "dueling")
                       if getattr(config, f) != getattr(rainbow, f)}
            assert len(changed) == 1, (name, changed)
    assert configs["DQN"].lr == 2.5e-4 and configs["DQN"].train_freq == 4 and configs["DQN"].distribution is None
    inert = {"priority_beta_steps", "v_min", "v_max"}  # fields no part of plain DQN reads
    preset = configs["DQN preset"]
    assert {f for f in MINATAR.__dataclass_fields__ if getattr(preset, f) != getattr(MINATAR, f)} <= inert


def test_the_acrobot_ablation_file_takes_one_part_away_per_row_and_ends_on_the_dqn_preset():
    from minidqn.cli.presets import preset_for

    _, trials, configs = _ablation("rainbow_ablation_acrobot.toml")
    assert len(trials) == 9 * 10
    rainbow, parts = configs["rainbow"], ("distribution", "noisy", "prioritized_replay", "n_step", "double_dqn", "dueling")
    assert rainbow.lr == 1e-3 and (rainbow.v_min, rainbow.v_max) == (-200.0, 0.0)
    assert [getattr(rainbow, f) for f in parts] == ["categorical", True, True, 3, True, True]
    for name, config in configs.items():  # each "without" row takes exactly one part away, nothing else
        if name.startswith("without"):
            assert len({f for f in rainbow.__dataclass_fields__ if getattr(config, f) != getattr(rainbow, f)}) == 1, name
    assert [getattr(configs["DQN"], f) for f in parts] == [None, False, False, 1, False, False]
    inert = {"priority_beta_steps", "v_min", "v_max"}  # fields no part of plain DQN reads
    dqn_preset, acrobot = configs["DQN preset"], preset_for("Acrobot-v1").config
    assert {f for f in acrobot.__dataclass_fields__ if getattr(dqn_preset, f) != getattr(acrobot, f)} <= inert


def test_the_lunarlander_file_tries_each_change_on_the_dqn_preset_and_ends_on_the_preset():
    from minidqn.cli.presets import preset_for

    _, trials, configs = _ablation("lunarlander_beyond_dqn.toml")
    assert len(trials) == 10 * 10 and {t.seed for t in trials} == set(range(10, 20))  # the choice's seeds
    preset, dqn = preset_for("LunarLander-v3").config, configs["the DQN preset"]
    assert configs["QR-DQN, double (the preset)"] == preset and preset.distribution == "quantile"

    def changed(config, base) -> set:
        return {f for f in base.__dataclass_fields__ if getattr(config, f) != getattr(base, f)}

    assert changed(dqn, preset) == {"distribution", "double_dqn"} and dqn.distribution is None
    assert changed(configs["QR-DQN"], dqn) == {"distribution"} and changed(configs["double"], dqn) == {"double_dqn"}
    assert changed(configs["batch 128"], dqn) == {"batch_size"} and changed(configs["C51"], dqn) == {
        "distribution", "v_min", "v_max"}


def test_a_lost_worker_stops_the_sweep_in_one_line_and_the_same_command_goes_on(tmp_path, monkeypatch):
    """A worker process that dies (here it exits at once, as one killed for memory or left without
    its raylet would) is Ray's failure, not the trial's: the sweep stops with one line instead of
    failing every trial after it, and the same command then runs them all."""
    from minidqn.cli import sweep

    args = ["sweep", "CartPole-v1", "--seeds", "0-2", "--steps", "300", "--eval-every", "300", "--eval-episodes", "1",
            "--set", "learning_starts=100", "--workers", "1", "--out", str(tmp_path / "s")]
    monkeypatch.setattr(sweep, "run_trial", lambda *args, **kwargs: os._exit(1))
    with pytest.raises(SystemExit, match=r"^minidqn sweep: Ray lost the worker running trial \S+-seed=\d \(WorkerCrashedError\)"
                                         r"; the trials that finished are kept: run the same command to go on$"):
        run(args)
    monkeypatch.undo()
    run(args)
    with open(tmp_path / "s" / "results.csv", newline="") as f:
        assert [row["status"] for row in csv.DictReader(f)] == ["done"] * 3
