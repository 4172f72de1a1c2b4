"""A run folder is as trustworthy as a checkpoint: attacks on it and on the command line, one per test.

Each test is an attack a careless user or a crafted folder makes: two trainers at once, a crashed
one, planted symbolic links, a zip of overlapping members, Ctrl-C, a wrong env, a file that is
not what its name says. On the command line every refusal is one line (a SystemExit with the
message, no traceback) and nothing already in the folder is lost.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from envs import OneStateEnv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minidqn import CheckpointError, DivergenceError, DQNAgent, DQNConfig
from minidqn.agents.discretizer import Discretizer
from minidqn.agents.policy import GreedyPolicy
from minidqn.agents.tabular import QLearningAgent
from minidqn.cli.commands import run
from minidqn.cli.folder_lock import FolderLock
from minidqn.cli.run_reading import read_evaluations
from minidqn.training.history import History

TINY = ["--learning-starts", "100", "--eval-every", "300", "--eval-episodes", "3", "--verbose", "0"]
RECORDS = ("run.json", "agent.npz", "policy.npz", "history.csv", "evaluations.csv", "summary.json")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished 400-step CartPole run, to copy: each test attacks its own copy."""
    folder = tmp_path_factory.mktemp("finished") / "run"
    run(["train", "CartPole-v1", "--steps", "400", "--out", str(folder), *TINY])
    return folder


@pytest.fixture
def folder(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


def contents(folder: Path) -> dict:
    return {name: (folder / name).read_bytes() for name in RECORDS}


# --- --overwrite replaces a run only once the new one has started ---------------------------------
class NaNAt(gym.Wrapper):
    """CartPole whose observation at its `at`-th step (over the env's life) is NaN."""

    def __init__(self, at: int):
        super().__init__(gym.make("CartPole-v1"))
        self.at, self.steps = at, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        return (obs * np.nan if self.steps == self.at else obs), reward, terminated, truncated, info


@pytest.fixture
def failing_env(monkeypatch):
    """The id of an env that fails at its 150th step: in training, before the first evaluation."""
    monkeypatch.setitem(gym.registry, "NaNAt150-v0", gym.envs.registration.EnvSpec(
        "NaNAt150-v0", entry_point=lambda **kwargs: NaNAt(150)))
    return "NaNAt150-v0"


def test_an_overwrite_that_fails_before_its_first_checkpoint_puts_the_old_run_back(folder, failing_env):
    before = contents(folder)
    with pytest.raises(SystemExit, match="observation .* step 150"):
        run(["train", failing_env, "--steps", "1000", "--out", str(folder), "--overwrite", *TINY])
    assert contents(folder) == before and not (folder / ".replaced").exists()


def test_an_overwrite_that_fails_after_its_first_checkpoint_keeps_the_new_run(folder, failing_env):
    with pytest.raises(SystemExit, match="observation .* step 150"):
        run(["train", failing_env, "--steps", "1000", "--out", str(folder), "--overwrite", "--checkpoint-every",
             "100", *TINY])
    assert 100 <= DQNAgent.load(folder / "agent.npz").num_steps < 150  # the first episode end after step 100
    assert not (folder / ".replaced").exists()
    assert json.loads((folder / "run.json").read_text())["env_id"] == failing_env


def test_an_overwrite_killed_midway_leaves_the_old_run_set_aside(folder, tmp_path):
    before = contents(folder)
    process = subprocess.Popen([sys.executable, "-m", "minidqn", "train", "CartPole-v1", "--steps", "100000",
                                "--out", str(folder), "--overwrite", "--verbose", "0"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not ((folder / ".replaced").exists() and (folder / "history.csv").exists()):  # the new run's
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert contents(folder / ".replaced") == before  # both runs there, never neither


# --- one writer per folder -------------------------------------------------------------------------
HOLD_THE_LOCK = textwrap.dedent("""
    import sys, time
    from minidqn.cli.folder_lock import FolderLock
    FolderLock(sys.argv[1], "minidqn train CartPole-v1 (the other terminal)").acquire()
    print("held", flush=True)
    time.sleep(60)
""")


def hold_lock_in_another_process(folder: Path) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(folder)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held", holder.stderr.read()
    return holder


def test_a_second_writer_is_refused_naming_the_first(folder):
    before = contents(folder)
    holder = hold_lock_in_another_process(folder)
    try:
        for argv in (["resume", str(folder), "--steps", "100"],
                     ["train", "CartPole-v1", "--steps", "300", "--out", str(folder), "--overwrite", *TINY]):
            with pytest.raises(SystemExit, match=f"in use by another minidqn process .*pid {holder.pid} .*other terminal"):
                run(argv)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert contents(folder) == before  # the refused --overwrite removed nothing


def test_a_lock_left_by_a_killed_writer_is_stale_and_taken_over(folder):
    holder = hold_lock_in_another_process(folder)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert f'"pid": {holder.pid}' in (folder / ".lock").read_text()  # the file still names the dead holder
    summary = run(["resume", str(folder), "--steps", "100", "--verbose", "0"])
    assert summary["env_steps"] == 500
    assert (folder / ".lock").read_text() == ""  # released: no holder named


def test_the_lock_names_its_holder_while_held_and_refuses_a_thread_of_the_same_process(tmp_path):
    with FolderLock(tmp_path, "minidqn resume runs/x --steps 5") as lock:
        holder = json.loads((tmp_path / ".lock").read_text())
        assert holder["pid"] == os.getpid() and holder["command"] == "minidqn resume runs/x --steps 5"
        with pytest.raises(ValueError, match="in use"):  # flock: a second open file, even in one process
            FolderLock(tmp_path, "another").acquire()
    assert lock.fd is None
    FolderLock(tmp_path, "a third").acquire().release()  # free again


def test_a_resume_killed_mid_run_resumes_again_with_consistent_records(tmp_path):
    """SIGKILL during `resume` (no Ctrl-C handler runs): the lock dies with it, the records run past
    the last checkpoint, and the next resume drops those rows and plays them again."""
    folder = tmp_path / "run"
    run(["train", "CartPole-v1", "--steps", "400", "--out", str(folder), "--checkpoint-every", "200", *TINY])
    process = subprocess.Popen([sys.executable, "-m", "minidqn", "resume", str(folder), "--steps", "100000",
                                "--verbose", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, start = time.monotonic() + 60, len((folder / "history.csv").read_text().splitlines())
    while len((folder / "history.csv").read_text().splitlines()) < start + 40:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    run(["resume", str(folder), "--steps", "300", "--verbose", "0"])
    agent, history = DQNAgent.load(folder / "agent.npz"), History.from_csv(folder / "history.csv")
    assert history.episode == list(range(1, agent.num_episodes + 1))  # every episode once, in order
    steps = [row[0] for row in read_evaluations(folder)]
    assert steps == sorted(steps) and len(set(steps)) == len(steps) and steps[-1] <= agent.num_steps


# --- nothing written through a planted link ----------------------------------------------------------
@pytest.mark.parametrize("name", ["history.csv", "agent.npz", "summary.json", ".lock"])
def test_resume_never_writes_through_a_planted_symlink(name, folder, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("someone else's file")
    (folder / name).unlink(missing_ok=True)
    (folder / name).symlink_to(outside)
    with pytest.raises(SystemExit, match=f"{name}|symbolic link|Too many levels"):
        run(["resume", str(folder), "--steps", "100"])
    assert outside.read_text() == "someone else's file"


def test_train_overwrite_removes_a_planted_link_and_leaves_its_target(folder, tmp_path):
    outside = tmp_path / "precious.csv"
    outside.write_text("someone else's file")
    (folder / "history.csv").unlink()
    (folder / "history.csv").symlink_to(outside)
    with pytest.raises(SystemExit, match="holds a run already"):  # a link counts as a file there
        run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), *TINY])
    run(["train", "CartPole-v1", "--steps", "300", "--out", str(folder), "--overwrite", *TINY])
    assert outside.read_text() == "someone else's file" and not (folder / "history.csv").is_symlink()


@pytest.mark.parametrize("name, command", [("policy.npz", "evaluate"), ("history.csv", "plot"),
                                           ("run.json", "evaluate"), ("evaluations.csv", "plot")])
def test_a_named_pipe_planted_in_the_folder_is_refused_not_read_forever(name, command, folder):
    (folder / name).unlink()
    os.mkfifo(folder / name)
    result = subprocess.run([sys.executable, "-m", "minidqn", command, str(folder)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1 and "is not a regular file" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("text, message", [("[" * 100_000 + "]" * 100_000, "not readable JSON"),
                                           ('{"seed": 0, "pad": "' + "x" * 2_000_000 + '"}', "over 1,000,000 bytes")])
def test_a_run_json_nested_too_deep_or_too_large_is_one_line(text, message, folder):
    (folder / "run.json").write_text(text)
    with pytest.raises(SystemExit, match=f"run.json .*{message}"):
        run(["evaluate", str(folder)])


@pytest.mark.parametrize("argv", [["plot", "{folder}", "--out", "{folder}/history.csv"],
                                  ["record", "{folder}", "--out", "{folder}/agent.npz"]])
def test_an_output_named_like_a_record_is_refused_before_it_overwrites_one(argv, folder):
    before = contents(folder)
    with pytest.raises(SystemExit) as stop:
        run([word.format(folder=folder) for word in argv])
    assert stop.value.code == 2 and contents(folder) == before


@pytest.mark.parametrize("argv, link", [(["plot", "{folder}"], "learning_curve.png"),
                                        (["record", "{folder}", "--out", "{folder}/a.gif"], "a.gif")])
def test_a_picture_is_never_drawn_through_a_planted_link(argv, link, folder, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("someone else's file")
    (folder / link).unlink(missing_ok=True)
    (folder / link).symlink_to(outside)
    with pytest.raises(SystemExit, match="symbolic link"):
        run([word.format(folder=folder) for word in argv])
    assert outside.read_text() == "someone else's file"


# --- archives checked against their own size -----------------------------------------------------------
def overlapping_copies(source: Path, target: Path, member: str, copies: int) -> None:
    """`source` with its central directory listing `member` `copies` more times, each entry
    pointing at the same bytes: a small file whose members claim many times its size."""
    data = source.read_bytes()
    end = data.rindex(b"PK\x05\x06")
    entries, size, offset = (int.from_bytes(data[end + i:end + i + n], "little") for i, n in ((10, 2), (12, 4), (16, 4)))
    directory = data[offset:offset + size]
    at = 0
    while True:  # find the member's entry in the central directory
        n, m, k = (int.from_bytes(directory[at + i:at + i + 2], "little") for i in (28, 30, 32))
        length = 46 + n + m + k
        if directory[at + 46:at + 46 + n].decode() == member:
            entry = directory[at:at + length]
            break
        at += length
    directory += entry * copies
    record = bytearray(data[end:])
    record[8:10] = record[10:12] = (entries + copies).to_bytes(2, "little")
    record[12:16] = len(directory).to_bytes(4, "little")
    target.write_bytes(data[:offset] + directory + bytes(record))


def test_a_zip_of_overlapping_members_is_refused_before_any_is_read(folder, tmp_path, monkeypatch):
    member = next(name for name in zipfile.ZipFile(folder / "policy.npz").namelist() if name != "meta.npy")
    overlapping_copies(folder / "policy.npz", tmp_path / "policy.npz", member, copies=200)
    assert len(zipfile.ZipFile(tmp_path / "policy.npz").infolist()) > 200  # a zip reader accepts it
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("an array was read"))
    with pytest.raises(CheckpointError, match="claim .* bytes in a file of .*overlap"):
        GreedyPolicy.load(tmp_path / "policy.npz")


# --- Ctrl-C: stop now, say what is left --------------------------------------------------------------
def test_ctrl_c_stops_at_once_and_says_how_to_go_on(tmp_path, ctrl_c_at_episode_5, capsys):
    from minidqn.cli import run_folder

    folder, monkeypatch = tmp_path / "run", ctrl_c_at_episode_5
    monkeypatch.setattr(run_folder.DQNAgent, "evaluate", lambda *a, **k: pytest.fail("no final evaluation after Ctrl-C"))
    summary = run(["train", "CartPole-v1", "--steps", "2000", "--out", str(folder), *TINY])
    agent = DQNAgent.load(folder / "agent.npz")
    left = 2000 - agent.num_steps
    assert summary["interrupted"] and summary["trained_this_call"] == agent.num_steps < 2000  # what happened
    assert json.loads((folder / "summary.json").read_text())["env_steps"] == agent.num_steps
    assert not (folder / "policy.npz").exists() and not (folder / "learning_curve.png").exists()
    out, command = capsys.readouterr().out, f"minidqn resume {folder} --steps {left}"
    assert f"({left:,} left)" in out and command in out
    monkeypatch.undo()
    run(command.split()[1:] + ["--verbose", "0"])  # the command it printed trains exactly to the budget
    assert DQNAgent.load(folder / "agent.npz").num_steps == 2000


def test_a_ctrl_c_after_training_ends_cleanly_with_status_130(folder, monkeypatch, capsys):
    from minidqn.cli import run_folder

    def second_ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_folder, "plot_run", second_ctrl_c)
    with pytest.raises(SystemExit) as stop:
        run(["resume", str(folder), "--steps", "100", "--verbose", "0"])
    assert stop.value.code == 130 and "interrupted" in capsys.readouterr().err
    assert DQNAgent.load(folder / "agent.npz").num_steps == 500  # what was saved is whole


def test_ctrl_c_in_a_real_process_prints_the_resume_command(tmp_path):
    """SIGINT to `python -m minidqn train`, as a terminal sends it: one message, no traceback."""
    folder = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "minidqn", "train", "CartPole-v1", "--steps", "200000",
                                "--out", str(folder), "--verbose", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (folder / "history.csv").exists() or len((folder / "history.csv").read_text().splitlines()) < 3:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0 and "Traceback" not in err, err
    assert "minidqn resume" in out and "left" in out and "stopped\n" in out
    assert not (folder / "policy.npz").exists()


# --- what it says is true, and every failure is one line -------------------------------------------------
def test_a_run_evaluated_or_resumed_on_the_wrong_env_is_refused_naming_both(folder, tmp_path):
    with pytest.raises(SystemExit, match=r"cannot act in Acrobot-v1: env has observations of shape \(6,\) and 3 "
                                         r"actions; the agent was built for \(4,\) and 2") as stop:
        run(["evaluate", str(folder), "--env-id", "Acrobot-v1"])
    assert "\n" not in stop.value.code
    with pytest.raises(SystemExit, match="cannot act in MountainCar-v0: env has observations of shape"):
        run(["resume", str(folder), "--steps", "10", "--env-id", "MountainCar-v0"])
    with pytest.raises(SystemExit, match="cannot act in MountainCar-v0: env has observations of shape"):
        run(["record", str(folder), "--env-id", "MountainCar-v0", "--out", str(tmp_path / "x.gif")])


@pytest.mark.parametrize("env_id, message", [
    ("no_such_module:Env-v0", "importing 'no_such_module' failed .*No module named"),
    ("a:b:CartPole-v1", "neither a gymnasium id"),
    ("CartPle-v1", "cannot make 'CartPle-v1'"),
    ("has space:Env-v0", "neither a gymnasium id"),
])
def test_env_ids_gymnasium_cannot_make_are_one_line(env_id, message, tmp_path):
    with pytest.raises(SystemExit, match=message):
        run(["train", env_id, "--steps", "100", "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_an_env_id_without_its_version_gets_the_latest_and_its_preset(tmp_path, capsys):
    run(["train", "CartPole", "--steps", "200", "--out", str(tmp_path / "run"), *TINY])
    assert "CartPole is CartPole-v1" in capsys.readouterr().out
    assert json.loads((tmp_path / "run" / "run.json").read_text())["env_id"] == "CartPole-v1"


def test_a_folder_that_cannot_be_made_or_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SystemExit, match="minidqn train: .*file"):  # a folder inside a file
        run(["train", "CartPole-v1", "--steps", "100", "--out", str(tmp_path / "file" / "run")])
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "locked").mkdir(mode=0o555)
        with pytest.raises(SystemExit, match="--out .*cannot write"):
            run(["train", "CartPole-v1", "--steps", "100", "--out", str(tmp_path / "locked")])


@pytest.mark.parametrize("name, data, message", [
    ("history.csv", b"episode,return\n\xff\xfe\x00", "history.csv is not a CSV text file"),
    ("history.csv", b"\x00" * 50, "history.csv is not a minidqn history"),
    ("evaluations.csv", b"env_steps,mean_return,predicted_value,discounted_return\n1e400,1,1,1\n2,2,2,2\n",
     "evaluations.csv, line 2: not an evaluation row"),
    ("evaluations.csv", b"\xff" * 30, "evaluations.csv is not a CSV text file"),
])
def test_records_that_are_not_what_their_names_say_are_named(name, data, message, folder):
    (folder / name).write_bytes(data)
    for argv in (["plot", str(folder)], ["resume", str(folder), "--steps", "10"]):
        with pytest.raises(SystemExit, match=message):
            run(argv)


def test_an_unknown_flag_suggests_the_close_ones_in_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        run(["train", "CartPole-v1", "--gama", "0.9"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.count("\n") == 1
    assert "--gama (did you mean --gamma?)" in err and "minidqn train --help" in err


def test_steps_rescale_what_the_preset_spreads_over_its_budget_and_say_so(tmp_path, capsys):
    run(["train", "Acrobot-v1", "--steps", "300", "--out", str(tmp_path / "a"), *TINY])
    assert "lr_decay_steps 100,000 -> 300" in capsys.readouterr().out
    assert json.loads((tmp_path / "a" / "run.json").read_text())["config"]["lr_decay_steps"] == 300
    run(["train", "Acrobot-v1", "--steps", "300", "--out", str(tmp_path / "b"), "--lr-decay-steps", "7",
         "--exploration-steps", "5", *TINY])  # TINY sets learning_starts, the third field Acrobot's preset spreads
    assert "rescales" not in capsys.readouterr().out  # a field the user set is the user's
    assert json.loads((tmp_path / "b" / "run.json").read_text())["config"]["lr_decay_steps"] == 7


def test_a_budget_that_ends_before_learning_starts_is_said_before_training(tmp_path, capsys):
    run(["train", "CartPole-v1", "--steps", "50", "--out", str(tmp_path / "run"), *TINY])
    out = capsys.readouterr().out
    assert "learning_starts is 100 env steps, so 50 steps end before the first gradient step" in out
    assert out.index("warning") < out.index("trained 50 env steps")


def test_a_divergence_on_the_command_line_is_one_line_naming_its_cause(tmp_path, monkeypatch):
    class HugeRewards(gym.Wrapper):  # 1e39 is a float64, and beyond float32's range
        def step(self, action):
            obs, _, terminated, truncated, info = self.env.step(action)
            return obs, 1e39, terminated, truncated, info

    monkeypatch.setitem(gym.registry, "HugeRewards-v0", gym.envs.registration.EnvSpec(
        "HugeRewards-v0", entry_point=lambda **kwargs: HugeRewards(OneStateEnv(truncate=True, length=5))))
    with pytest.raises(SystemExit, match="diverged at env step .*rewards or observations overflow it.*float64"):
        run(["train", "HugeRewards-v0", "--steps", "300", "--out", str(tmp_path / "run"), *TINY])


def test_a_reward_beyond_float32_is_named_as_the_cause_in_python_too():
    class HugeRewards(gym.Wrapper):
        def step(self, action):
            obs, _, terminated, truncated, info = self.env.step(action)
            return obs, -3.5e38, terminated, truncated, info

    env = HugeRewards(OneStateEnv(truncate=True, length=5))
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(hidden_sizes=(4,), batch_size=4,
                                                                        learning_starts=8), seed=0)
    with pytest.raises(DivergenceError, match=r"beyond float32's range .*TransformReward"):
        agent.train(env, 200, verbose=0)
    float64 = DQNAgent(env.observation_space, env.action_space, DQNConfig(
        hidden_sizes=(4,), batch_size=4, learning_starts=8, dtype="float64", loss="huber"), seed=0)
    float64.train(env, 200, verbose=0)  # the advice holds: float64 holds these rewards, and it trains
    assert float64.num_updates > 100


def test_record_on_an_env_drawn_with_pygame_names_the_extra(tmp_path, monkeypatch):
    pytest.importorskip("pygame")
    folder = tmp_path / "run"
    run(["train", "Acrobot-v1", "--steps", "100", "--out", str(folder), *TINY])
    monkeypatch.setitem(sys.modules, "pygame", None)  # as on the base install
    with pytest.raises(SystemExit, match=r'needs pygame.*pip install -e "\.\[record\]"'):
        run(["record", str(folder), "--out", str(tmp_path / "a.gif"), "--max-steps", "5"])


# --- a fuzzer over what a run folder holds ---------------------------------------------------------
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                        max_size=3), max_leaves=6)
RUN_KEYS = ["env_id", "seed", "max_episode_steps", "target", "eval_every", "eval_episodes", "checkpoint_every",
            "config"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(RUN_KEYS), value=JSON_VALUES, command=st.sampled_from(["evaluate", "plot", "resume"]))
def test_any_value_in_run_json_works_or_is_one_line_naming_the_file(finished_run, tmp_path_factory, key, value,
                                                                    command):
    folder = tmp_path_factory.mktemp("fuzz") / "run"
    shutil.copytree(finished_run, folder)
    settings_ = json.loads((folder / "run.json").read_text())
    settings_[key] = value
    (folder / "run.json").write_text(json.dumps(settings_))
    argv = {"evaluate": ["evaluate", str(folder), "--episodes", "1"], "plot": ["plot", str(folder)],
            "resume": ["resume", str(folder), "--steps", "1", "--verbose", "0"]}[command]
    try:
        run(argv)
    except SystemExit as stop:
        assert isinstance(stop.code, str) and stop.code.startswith(f"minidqn {command}: ") and "\n" not in stop.code


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["history.csv", "evaluations.csv"]), cut=st.integers(0, 10_000),
       insert=st.binary(max_size=12) | st.sampled_from([b",", b"\n", b"nan", b"inf", b"-1", b"1e999", b'"', b"\r"]))
def test_any_edit_of_the_records_works_or_is_one_line_naming_the_file(finished_run, tmp_path_factory, name, cut,
                                                                      insert):
    folder = tmp_path_factory.mktemp("fuzz") / "run"
    shutil.copytree(finished_run, folder)
    data = (folder / name).read_bytes()
    cut %= len(data) + 1
    (folder / name).write_bytes(data[:cut] + insert + data[cut:])
    try:
        run(["plot", str(folder)])
    except SystemExit as stop:
        assert isinstance(stop.code, str) and name in stop.code and "\n" not in stop.code
    else:
        assert len(History.from_csv(folder / "history.csv")) >= 1 or name == "history.csv"


# --- the tabular agent from the command line ---------------------------------------------------------
def test_the_tabular_agent_trains_evaluates_resumes_records_and_plots_from_the_command_line(tmp_path, capsys):
    folder = tmp_path / "lake"
    summary = run(["train", "FrozenLake-v1", "--agent", "tabular", "--steps", "3000", "--alpha-start", "0.2",
                   "--out", str(folder), "--eval-every", "1000", "--eval-episodes", "5", "--verbose", "0"])
    agent = QLearningAgent.load(folder / "agent.npz")
    assert agent.num_steps == 3000 and agent.config.alpha_start == 0.2 and agent.q.shape == (16, 4)
    assert summary["target"] == 0.7 and json.loads((folder / "run.json").read_text())["agent"] == "tabular"
    measured_at = [row[0] for row in read_evaluations(folder)]  # the first episode end after each 1,000 steps
    assert [step // 1000 for step in measured_at] in ([1, 2], [1, 2, 3]) and not (folder / "policy.npz").exists()
    returns = run(["evaluate", str(folder), "--episodes", "50", "--seed", "3"])
    expected = agent.evaluate(gym.make("FrozenLake-v1"), episodes=50, seed=3)
    assert returns.shape == (50,) and set(returns) <= {0.0, 1.0} and abs(returns.mean() - expected.mean()) <= 0.5
    run(["resume", str(folder), "--steps", "500", "--verbose", "0"])
    assert QLearningAgent.load(folder / "agent.npz").num_steps == 3500
    run(["plot", str(folder)])
    with pytest.raises(SystemExit, match="cannot act in Taxi-v4: .*--env-id"):
        run(["evaluate", str(folder), "--env-id", "Taxi-v4"])


def test_a_tabular_cartpole_run_uses_the_measured_grid_and_records_without_pygame(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)
    folder = tmp_path / "cartpole"
    run(["train", "CartPole-v1", "--agent", "tabular", "--steps", "500", "--out", str(folder), *TINY[2:]])
    assert QLearningAgent.load(folder / "agent.npz").n_states == Discretizer.for_cartpole().n_states
    run(["record", str(folder), "--out", str(tmp_path / "q.gif"), "--max-steps", "20"])
    assert (tmp_path / "q.gif").read_bytes()[:6] == b"GIF89a"


@pytest.mark.parametrize("argv, message", [
    (["CartPole-v1", "--bins", "4"], "--bins cuts observations into a grid for --agent tabular"),
    (["LunarLander-v3", "--agent", "tabular"], "Q-table of 100,000,000 states .* use fewer bins"),
    (["Pendulum-v1", "--agent", "tabular", "--bins", "3"], "Discrete"),
])
def test_the_tabular_agent_refuses_what_it_cannot_learn_before_writing(argv, message, tmp_path):
    if argv[0].startswith("Lunar"):
        pytest.importorskip("Box2D")
    with pytest.raises(SystemExit, match=message):
        run(["train", *argv, "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


# --- a named change to the training env ----------------------------------------------------------
def terminations(folder: Path) -> tuple[int, int]:
    """(transitions stored as terminal, episodes ended) of the run's agent."""
    agent = DQNAgent.load(folder / "agent.npz")
    return int(agent.buffer.rows()[:, -1].sum()), agent.num_episodes


def test_a_wrapped_training_env_is_recorded_and_wrapped_again_on_resume(tmp_path):
    """With a time limit of 10 steps most random CartPole episodes are cut off: stored as cut off
    (not terminal) without the wrapper, as terminal with it, and still so after resume. (ε stays
    1: random actions whatever the preset's schedule.)"""
    args = ["CartPole-v1", "--steps", "400", "--max-episode-steps", "10", "--n-step", "1", "--learning-starts", "100",
            "--epsilon-end", "1", "--eval-every", "200", "--checkpoint-every", "100", "--verbose", "0"]
    run(["train", *args, "--out", str(tmp_path / "plain")])
    run(["train", *args, "--out", str(tmp_path / "wrapped"), "--wrap", "truncation-as-termination"])
    stored, episodes = terminations(tmp_path / "plain")
    assert stored < episodes / 2
    stored, episodes = terminations(tmp_path / "wrapped")
    assert stored == episodes > 30  # every episode an end
    assert json.loads((tmp_path / "wrapped" / "run.json").read_text())["wrap"] == ["truncation-as-termination"]
    run(["resume", str(tmp_path / "wrapped"), "--steps", "200", "--verbose", "0"])
    stored, episodes = terminations(tmp_path / "wrapped")
    assert stored == episodes > 50


@pytest.mark.parametrize("wrap", [["time-limit"], "truncation-as-termination", [{"a": 1}]])
def test_a_run_json_naming_an_unknown_wrapper_is_refused(tmp_path, wrap):
    run(["train", "CartPole-v1", "--steps", "200", "--learning-starts", "100", "--verbose", "0", "--out", str(tmp_path)])
    settings_ = json.loads((tmp_path / "run.json").read_text())
    (tmp_path / "run.json").write_text(json.dumps({**settings_, "wrap": wrap}))
    with pytest.raises(SystemExit, match="run.json: wrap must be a list of wrapper names"):
        run(["resume", str(tmp_path), "--steps", "100"])
