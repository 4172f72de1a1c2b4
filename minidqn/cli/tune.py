"""`minidqn tune`: an Optuna search over the DQN space (minidqn.cli.search_space), its trials run on Ray like a sweep's.

Optuna proposes (the TPE sampler) and prunes (the median pruner, fed by each trial's greedy
evaluations during training, so a trial clearly behind the others at the same step stops early);
Ray runs the trials, each an ordinary run folder, TUNE/trials/NNNN/. The study lives in an SQLite
file, TUNE/study.db, so the same command resumes it (a trial a killed search left running is
marked failed, and the count of trials goes on), and `--storage` names a database URL several
machines can share, in the RL Zoo's manner.

A trial's objective rewards a policy that is solved and stays solved, not a lucky peak: by
default ("late") the mean of its greedy evaluations over the last quarter of the budget and its
final evaluation; "area" takes every evaluation, so that it rewards solving soon as well. Trial k
trains on seed 1000 + k. At the end the best configuration is printed as the changes to the
preset, saved to TUNE/best.json, and run again on seeds the search never used (`--report-seeds`,
20-29 by default), as a sweep of its own, read with the IQM and its interval.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from minidqn.agents.config import DQNConfig
from minidqn.cli.folder_lock import FolderLock
from minidqn.cli.run_files import write_json
from minidqn.cli.run_reading import read_evaluations
from minidqn.cli.search_space import sample_dqn
from minidqn.cli.sweep import ray_session, run_sweep
from minidqn.experiments.sweep_spec import Trial

OBJECTIVES = {
    "late": "the mean of the evaluations from 3/4 of the budget on and the final one: solved and held",
    "area": "the mean of every evaluation and the final one (the area under the curve): solved soon and held",
}
SEARCH_SEEDS_FROM = 1_000  # trial k trains on seed 1000 + k, apart from the seeds a report uses


def objective(folder: Path, summary: dict, steps: int, kind: str = "late") -> float:
    """A finished trial's value, as OBJECTIVES[kind] says."""
    first = 0.75 * steps if kind == "late" else 0
    measured = [mean for step, mean, *_ in read_evaluations(folder) if step >= first]
    return float(np.mean([*measured, summary["final_evaluation"]["mean"]]))


def run_tune_trial(storage: str, study_name: str, trial_id: int, trial: Trial, steps: int, folder: Path,
                   eval_every: int, kind: str = "late") -> tuple[str, float | None]:
    """Train one proposed configuration (in a Ray worker), reporting each evaluation to the study;
    ("done", objective), or ("pruned", last evaluation) if the pruner stopped it."""
    import optuna

    from minidqn.cli.run_folder import train_new

    study = optuna.load_study(study_name=study_name, storage=storage)
    proposal = optuna.trial.Trial(study, trial_id)
    last = []

    def keep_going(step: int, mean: float) -> bool:
        last.append(mean)
        proposal.report(mean, step)
        return not proposal.should_prune()

    summary = train_new(trial.env_id, trial.config, steps, trial.seed, folder, eval_every=eval_every, eval_episodes=10,
                        checkpoint_every=None, verbose=0, overwrite=True, keep_going=keep_going)
    if summary["interrupted"]:
        return "pruned", last[-1]
    return "done", objective(folder, summary, steps, kind)


def run_tune(env_id: str, base: DQNConfig, n_trials: int, steps: int, out: Path, workers: int | None = None,
             address: str | None = None, storage: str | None = None, seed: int = 0, eval_every: int = 5_000,
             report_seeds: list[int] = tuple(range(20, 30)), kind: str = "late") -> dict:
    """Run the study to `n_trials` finished trials, each valued by OBJECTIVES[kind], then report
    the best on `report_seeds`."""
    if kind not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {kind!r}")
    searched = [s for s in report_seeds if SEARCH_SEEDS_FROM <= s < SEARCH_SEEDS_FROM + n_trials]
    if searched:
        raise ValueError(f"--report-seeds {searched}: the search trains on those; report on seeds it never used")
    try:
        import optuna
        import ray
    except ImportError:
        raise ValueError('minidqn tune needs Optuna and Ray: pip install -e ".[sweep]"') from None
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out, f"minidqn tune {env_id} --trials {n_trials}"):
        storage = storage or f"sqlite:///{(out / 'study.db').resolve()}"
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(study_name=f"minidqn-{env_id}", storage=storage, load_if_exists=True,
                                    direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed),
                                    pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=steps // 4))
        terms = {"steps": steps, "objective": kind}  # a study's values compare only under the same terms
        if not study.user_attrs:
            for key, value in terms.items():
                study.set_user_attr(key, value)
        elif {key: study.user_attrs.get(key) for key in terms} != terms:
            raise ValueError(f"the study in {storage} was run with {study.user_attrs}, not {terms}: give another --out")
        for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(stale.number, state=optuna.trial.TrialState.FAIL)  # left running by a killed search
        ended = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,
                                                              optuna.trial.TrialState.PRUNED)))
        print(f"study {study.study_name} in {storage}: {ended} trials ended, {max(0, n_trials - ended)} to run", flush=True)
        if ended < n_trials:
            with ray_session(ray, address, workers):
                _search(ray, optuna, study, storage, env_id, base, n_trials - ended, steps, out, eval_every, kind)
        best = study.best_trial
        changes = sample_dqn(optuna.trial.FixedTrial(best.params), steps)
        print(f"best: trial {best.number}, objective {best.value:.1f}; as a preset, DQNConfig changes: {changes}")
        write_json(out / "best.json", {"trial": best.number, "objective": best.value, "objective_is": OBJECTIVES[kind],
                                       "steps": steps, "seed": SEARCH_SEEDS_FROM + best.number, "params": best.params,
                                       "config_changes": changes})
    config = dataclasses.replace(base, **changes)
    report = [Trial(f"seed={s}", env_id, s, {"tuned": f"trial {best.number}"}, config) for s in report_seeds]
    print(f"the best configuration on seeds the search never used ({', '.join(map(str, report_seeds))}):")
    rows = run_sweep(report, steps, out / f"report-trial-{best.number}", None, address, eval_every)
    return {"best": best.params, "report": rows}


def _search(ray, optuna, study, storage: str, env_id: str, base: DQNConfig, n_trials: int, steps: int, out: Path,
            eval_every: int, kind: str) -> None:
    """Keep one trial per CPU in flight until `n_trials` have ended, telling the study each result."""
    task = ray.remote(num_cpus=1, max_retries=0)(run_tune_trial)
    cpus, running, asked, ended = int(ray.cluster_resources().get("CPU", 1)), {}, 0, 0
    while ended < n_trials:
        while asked < n_trials and len(running) < cpus:
            proposal, asked = study.ask(), asked + 1
            try:
                config = dataclasses.replace(base, **sample_dqn(proposal, steps))
            except (TypeError, ValueError):  # a combination DQNConfig refuses (a batch over the buffer)
                study.tell(proposal, state=optuna.trial.TrialState.FAIL)
                ended += 1
                continue
            trial = Trial(f"{proposal.number:04d}", env_id, SEARCH_SEEDS_FROM + proposal.number, {}, config)
            ref = task.remote(storage, study.study_name, proposal._trial_id, trial, steps,
                              out / "trials" / trial.name, eval_every, kind)
            running[ref] = proposal
        if not running:
            continue
        ready, _ = ray.wait(list(running), num_returns=1)
        proposal = running.pop(ready[0])
        try:
            state, value = ray.get(ready[0])
            study.tell(proposal, value if state == "done" else None,
                       state=optuna.trial.TrialState.COMPLETE if state == "done" else optuna.trial.TrialState.PRUNED)
        except Exception:  # noqa: BLE001  (a failed trial is told as failed; the search goes on)
            study.tell(proposal, state=optuna.trial.TrialState.FAIL)
        ended += 1
        done = [t.value for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
        print(f"trial {proposal.number} {study.trials[proposal.number].state.name.lower()}; {ended}/{n_trials} ended"
              + (f"; best so far {max(done):.1f}" if done else ""), flush=True)
