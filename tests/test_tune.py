"""`minidqn tune`: an Optuna study whose trials run on a local Ray, resumed, and its pieces."""

import json
import os

import pytest

from minidqn import DQNConfig
from minidqn.cli.commands import run
from minidqn.cli.run_folder import train_new
from minidqn.cli.run_reading import read_evaluations
from minidqn.cli.search_space import sample_dqn
from minidqn.cli.tune import (
    check_seeds,
    choose,
    objective,
    open_study,
    run_tune_trial,
    top_trials,
)
from minidqn.experiments.sweep_spec import Trial

optuna = pytest.importorskip("optuna")
ray = pytest.importorskip("ray")

ARGS = ["--steps", "1200", "--eval-every", "300", "--workers", "2", "--report-seeds", "100", "--candidates", "1",
        "--validate-seeds", "7"]


def test_a_study_runs_resumes_and_reports_its_best_on_unseen_seeds(tmp_path, capsys):
    out = tmp_path / "tune"
    run(["tune", "CartPole-v1", "--trials", "4", "--out", str(out), *ARGS])
    storage = f"sqlite:///{(out / 'study.db').resolve()}"
    study = optuna.load_study(study_name="minidqn-CartPole-v1", storage=storage)
    assert len(study.trials) == 4 and all(t.state.is_finished() for t in study.trials)
    best = json.loads((out / "best.json").read_text())
    assert best["trial"] == study.best_trial.number and best["params"] == study.best_trial.params
    scores = best["validation"]["iqm_of_objective"]  # the best trial and the preset, again on seed 7
    ties = best["validation"]["iqm_of_tie_break"]
    assert set(scores) == set(ties) == {"preset", f"trial{study.best_trial.number}"}
    assert best["validation"]["tie_break"] == "area"
    assert best["chosen"] == max(scores, key=lambda name: (scores[name], ties[name]))
    for name in scores:  # each candidate a sweep of its own, a header and seed 7
        assert (out / "validation" / name / "results.csv").read_text().count("\n") == 2
    assert set(best["config_changes"]) >= {"lr", "n_step", "hidden_sizes"} or best["chosen"] == "preset"
    report = out / f"report-{best['chosen']}"
    assert (report / "results.csv").read_text().count("\n") == 2  # a header and seed 100
    assert json.loads((report / "trials" / "seed=100" / "run.json").read_text())["seed"] == 100
    label = "the preset" if best["chosen"] == "preset" else best["chosen"]  # not "the preset" for a tuned trial
    assert f"| {label} | 1 of 1 |" in (report / "summary.md").read_text()
    assert json.loads((out / "trials" / "0003" / "run.json").read_text())["seed"] == 1003  # apart from reports
    stale = study.ask()  # as a search killed while this trial ran would leave it
    capsys.readouterr()
    run(["tune", "CartPole-v1", "--trials", "5", "--out", str(out), *ARGS])
    assert "4 trials ended, 1 to run" in capsys.readouterr().out
    study = optuna.load_study(study_name="minidqn-CartPole-v1", storage=storage)
    assert study.trials[stale.number].state == optuna.trial.TrialState.FAIL
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials) + sum(
        t.state == optuna.trial.TrialState.PRUNED for t in study.trials) == 5
    assert not ray.is_initialized()
    with pytest.raises(SystemExit, match="objective"):  # one study's values are compared on one objective
        run(["tune", "CartPole-v1", "--trials", "6", "--out", str(out), *ARGS, "--objective", "area"])
    with pytest.raises(SystemExit, match=r"--report-seeds \[1002\]: the search trains on those"):
        run(["tune", "CartPole-v1", "--trials", "6", "--out", str(tmp_path / "other"), "--report-seeds", "1002"])
    with pytest.raises(SystemExit, match=r"share \[12\]: the report must be on seeds the choice never saw"):
        run(["tune", "CartPole-v1", "--trials", "6", "--out", str(tmp_path / "other"), "--report-seeds", "12"])


def test_keep_going_stops_a_run_at_the_evaluation_that_says_so(tmp_path):
    heard = []

    def keep_going(step, mean):
        heard.append((step, mean))
        return len(heard) < 2  # stop at the second evaluation, as a pruner would

    summary = train_new("CartPole-v1", DQNConfig(learning_starts=100), 3000, 0, tmp_path / "run", eval_every=300,
                        eval_episodes=2, verbose=0, keep_going=keep_going)
    assert summary["interrupted"] and 600 <= summary["env_steps"] < 3000 and len(heard) == 2


def test_a_trial_stopped_by_ctrl_c_is_failed_not_pruned(tmp_path, ctrl_c_at_episode_5):
    """A pruned trial stopped because the pruner said so; one a SIGINT stopped is an error, which
    the search tells the study as a failed trial, not as a pruned one with a value."""
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    trial = Trial("0000", "CartPole-v1", 0, {}, DQNConfig(learning_starts=100))
    with pytest.raises(RuntimeError, match=r"interrupted at env step \d+ of 1,200"):
        run_tune_trial(storage, "s", study.ask()._trial_id, trial, 1200, tmp_path / "trial", eval_every=300)


def test_the_objective_is_the_late_evaluations_and_the_final_one(tmp_path):
    (tmp_path / "evaluations.csv").write_text("env_steps,mean_return,predicted_value,discounted_return\n"
                                              "500,10,0,0\n760,300,0,0\n900,400,0,0\n")
    assert objective(tmp_path, {"final_evaluation": {"mean": 500.0}}, steps=1000) == pytest.approx(400.0)


def test_the_area_objective_is_every_evaluation_and_the_final_one(tmp_path):
    (tmp_path / "evaluations.csv").write_text("env_steps,mean_return,predicted_value,discounted_return\n"
                                              "500,10,0,0\n760,300,0,0\n900,400,0,0\n")
    assert objective(tmp_path, {"final_evaluation": {"mean": 490.0}}, 1000, "area") == pytest.approx(300.0)


def test_a_trial_on_two_seeds_trains_both_and_is_worth_its_worst(tmp_path):
    """Each seed in a folder of its own; the pruner hears the second seed's evaluations after the
    first's (step j·steps + s); the value is the lower of the two objectives."""
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    trial = Trial("0003", "CartPole-v1", 1006, {}, DQNConfig(learning_starts=100))
    state, value = run_tune_trial(storage, "s", study.ask()._trial_id, trial, 1200, tmp_path / "0003",
                                  eval_every=300, per_trial=2)
    folders = [tmp_path / "0003" / "seed=1006", tmp_path / "0003" / "seed=1007"]
    assert [json.loads((f / "run.json").read_text())["seed"] for f in folders] == [1006, 1007]
    values = [objective(f, json.loads((f / "summary.json").read_text()), 1200) for f in folders]
    assert state == "done" and value == min(values)
    reported = optuna.load_study(study_name="s", storage=storage).trials[0].intermediate_values
    first, second = ([int(row[0]) for row in read_evaluations(f)] for f in folders)
    assert first and second and sorted(reported) == first + [1200 + step for step in second]


def test_search_seeds_count_every_seed_of_every_trial(tmp_path):
    check_seeds(4, [1005], [10], per_trial=1)  # trials 0-3 train on 1000-1003
    with pytest.raises(ValueError, match=r"--report-seeds \[1005\]: the search trains on those"):
        check_seeds(4, [1005], [10], per_trial=2)  # 1000-1007
    with pytest.raises(ValueError, match="--trial-seeds must be a positive integer, got 0"):
        check_seeds(4, [20], [10], per_trial=0)


def test_a_study_keeps_its_seeds_per_trial(tmp_path):
    """A study made before trial_seeds was kept had one seed per trial; one made with two refuses one."""
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    old = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    for key, value in {"steps": 1000, "objective": "late"}.items():
        old.set_user_attr(key, value)
    open_study(optuna, "s", storage, 0, {"steps": 1000, "objective": "late", "trial_seeds": 1})
    open_study(optuna, "t", storage, 0, {"steps": 1000, "objective": "late", "trial_seeds": 2})
    with pytest.raises(ValueError, match="'trial_seeds': 2"):
        open_study(optuna, "t", storage, 0, {"steps": 1000, "objective": "late", "trial_seeds": 1})


def test_the_choice_breaks_a_tie_on_the_objective_by_the_other_objective():
    """Two candidates that both hold CartPole's 500 to the end tie on `late`; the one that got there
    sooner has the larger area. Equal on both, the preset keeps its place."""
    assert choose({"preset": (484.26, 430.0), "trial24": (500.0, 420.5), "trial25": (500.0, 441.2)}) == "trial25"
    assert choose({"preset": (500.0, 441.2), "trial25": (500.0, 441.2)}) == "preset"
    assert choose({"preset": (480.0, 499.0), "trial3": (481.0, 100.0)}) == "trial3"  # the objective decides first


def _finished_run(folder, curve, steps=1000):
    """A run folder as a finished trial leaves it: its evaluations and its final one."""
    folder.mkdir(parents=True)
    rows = "".join(f"{step},{mean},0,0\n" for step, mean in curve)
    (folder / "evaluations.csv").write_text("env_steps,mean_return,predicted_value,discounted_return\n" + rows)
    (folder / "summary.json").write_text(json.dumps({"env_steps": steps, "final_evaluation": {"mean": 500.0}}))


def test_the_shortlist_ranks_trials_equal_on_the_objective_by_the_tie_break(tmp_path):
    """Three trials at 500 on `late` (two seeds each, worth the worst): trial 1 got there soonest on
    both seeds, trial 2 soon on one and a little later on the other, trial 0 late on both; the
    shortlist of two is trials 1 and 2, in that order, not the first two by number."""
    study = optuna.create_study(direction="maximize")
    params = {"lr": 1e-3, "lr_decay": True, "batch_size": 64, "buffer_size": 50_000, "gamma": 0.99,
              "exploration_fraction": 0.1, "epsilon_end": 0.05, "learning_starts_fraction": 0.02, "n_step": 3,
              "tau": 0.01, "train_freq": 1, "net": "medium", "loss": "huber", "double_dqn": True, "dueling": True}
    soon, later, late = [(250, 500), (500, 500)], [(250, 10), (500, 500)], [(250, 10), (500, 100)]
    for number, curves in enumerate([(late, late), (soon, soon), (soon, later)]):
        study.enqueue_trial(params)
        trial = study.ask()
        sample_dqn(trial, 1000)
        study.tell(trial, 500.0)
        for j, curve in enumerate(curves):
            _finished_run(tmp_path / "trials" / f"{number:04d}" / f"seed={1000 + 2 * number + j}", curve)
    assert list(top_trials(optuna, study, 2, 1000, tmp_path, "late", per_trial=2)) == ["trial1", "trial2"]
    (tmp_path / "trials" / "0001" / "seed=1002" / "summary.json").unlink()  # a seed's run gone: last among equals
    assert list(top_trials(optuna, study, 2, 1000, tmp_path, "late", per_trial=2)) == ["trial2", "trial0"]


def test_a_lost_worker_stops_the_search_and_the_study_keeps_what_ended(tmp_path, monkeypatch):
    """Ray's failure is not a trial's: one search trial is told failed and the search stops, where
    before every trial after it failed at once and the choice went on with what was left."""
    from minidqn.cli import tune

    out = tmp_path / "tune"
    monkeypatch.setattr(tune, "run_tune_trial", lambda *args, **kwargs: os._exit(1))
    with pytest.raises(SystemExit, match=r"^minidqn tune: Ray lost the worker running search trial \d "
                                         r"\(WorkerCrashedError\); the study keeps the trials that ended"):
        run(["tune", "CartPole-v1", "--trials", "6", "--out", str(out), *ARGS])
    study = optuna.load_study(study_name="minidqn-CartPole-v1", storage=f"sqlite:///{(out / 'study.db').resolve()}")
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 1 and optuna.trial.TrialState.COMPLETE not in states
    assert not (out / "best.json").exists() and not ray.is_initialized()
