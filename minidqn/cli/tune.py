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
trains on seed 1000 + k; with `--trial-seeds K`, on the K seeds 1000 + K·k, ..., 1000 + K·k + K − 1
in turn, and its value is the worst of theirs, so that a setting that fails one seed in K scores
as a failure. The best trial is flattered by its seeds' luck all the same, so the choice is
made again on seeds the search never used: the `--candidates` best trials and the preset itself
each train on `--validate-seeds` (10-19 by default), and the one whose objective has the highest
IQM there is chosen (candidates equal on it, as at a return's ceiling, are told apart by the
other objective's IQM), printed as the changes to the preset and saved to TUNE/best.json. It is
then run once more on seeds neither the search nor the choice used (`--report-seeds`, 20-29 by
default), as a sweep of its own, read with the IQM and its interval: the figures to quote.
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
from minidqn.cli.sweep import WorkerLost, finished, lost_worker, ray_session, run_sweep
from minidqn.experiments.sweep_spec import Trial
from minidqn.stats import iqm

OBJECTIVES = {
    "late": "the mean of the evaluations from 3/4 of the budget on and the final one: solved and held",
    "area": "the mean of every evaluation and the final one (the area under the curve): solved soon and held",
}
TIE_BREAK = {"late": "area", "area": "late"}  # the other objective tells apart candidates equal on one
SEARCH_SEEDS_FROM = 1_000  # trial k trains on seed 1000 + k, apart from the seeds a report uses


def objective(folder: Path, summary: dict, steps: int, kind: str = "late") -> float:
    """A finished trial's value, as OBJECTIVES[kind] says."""
    first = 0.75 * steps if kind == "late" else 0
    measured = [mean for step, mean, *_ in read_evaluations(folder) if step >= first]
    return float(np.mean([*measured, summary["final_evaluation"]["mean"]]))


def trial_seeds(number: int, per_trial: int = 1) -> list[int]:
    """The seeds search trial `number` trains on: 1000 + K·number, ... (K = per_trial of them)."""
    return [SEARCH_SEEDS_FROM + per_trial * number + j for j in range(per_trial)]


def run_tune_trial(storage: str, study_name: str, trial_id: int, trial: Trial, steps: int, folder: Path,
                   eval_every: int, kind: str = "late", per_trial: int = 1) -> tuple[str, float | None]:
    """Train one proposed configuration (in a Ray worker) on its seeds in turn, reporting each
    evaluation to the study; ("done", the worst seed's objective), or ("pruned", last evaluation)
    if the pruner stopped it. One seed trains in `folder`, K seeds in folder/seed=S each.

    The j-th seed's evaluation at env step s is reported as step j·steps + s, so that the pruner
    compares every trial's j-th seed with the others' j-th seeds at the same step."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=storage)
    proposal = optuna.trial.Trial(study, trial_id)
    values = []
    for j, seed in enumerate(range(trial.seed, trial.seed + per_trial)):  # the trial's seed is the first of its K
        run_folder = folder if per_trial == 1 else folder / f"seed={seed}"
        summary, pruned_at = _train_reporting(proposal, trial, seed, steps, j * steps, run_folder, eval_every)
        if pruned_at is not None:
            return "pruned", pruned_at
        if summary["interrupted"]:  # not the pruner: a SIGINT reached the worker (the search tells it as failed)
            raise RuntimeError(f"seed {seed} interrupted at env step {summary['env_steps']:,} of {steps:,}")
        values.append(objective(run_folder, summary, steps, kind))
    return "done", min(values)


def _train_reporting(proposal, trial: Trial, seed: int, steps: int, offset: int, folder: Path,
                     eval_every: int) -> tuple[dict, float | None]:
    """Train `trial`'s config on `seed` in `folder`, reporting each evaluation at env step s to the
    study as step offset + s; its summary, and its last evaluation if the pruner stopped it (else None)."""
    from minidqn.cli.run_folder import train_new

    last, pruned = [], []

    def keep_going(step: int, mean: float) -> bool:
        last.append(mean)
        proposal.report(mean, offset + step)
        if step >= steps // 4 and proposal.should_prune():  # every seed's first quarter is warm-up
            pruned.append(step)
            return False
        return True

    summary = train_new(trial.env_id, trial.config, steps, seed, folder, eval_every=eval_every, eval_episodes=10,
                        checkpoint_every=None, verbose=0, overwrite=True, keep_going=keep_going)
    return summary, (last[-1] if pruned else None)


def run_tune(env_id: str, base: DQNConfig, n_trials: int, steps: int, out: Path, workers: int | None = None,
             address: str | None = None, storage: str | None = None, seed: int = 0, eval_every: int = 5_000,
             report_seeds: list[int] = tuple(range(20, 30)), kind: str = "late", candidates: int = 3,
             validate_seeds: list[int] = tuple(range(10, 20)), per_trial: int = 1) -> dict:
    """Run the study to `n_trials` finished trials, each trained on `per_trial` seeds and valued by
    OBJECTIVES[kind] on its worst; choose among its `candidates` best and the preset on
    `validate_seeds` (with 0 candidates: its best); report the choice on `report_seeds`."""
    if kind not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {kind!r}")
    check_seeds(n_trials, report_seeds, validate_seeds if candidates else [], per_trial)
    try:
        import optuna
        import ray
    except ImportError:
        raise ValueError('minidqn tune needs Optuna and Ray: pip install -e ".[sweep]"') from None
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out, f"minidqn tune {env_id} --trials {n_trials}"):
        storage = storage or f"sqlite:///{(out / 'study.db').resolve()}"
        study = open_study(optuna, f"minidqn-{env_id}", storage, seed,
                           {"steps": steps, "objective": kind, "trial_seeds": per_trial})
        for stale in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study.tell(stale.number, state=optuna.trial.TrialState.FAIL)  # left running by a killed search
        ended = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,
                                                              optuna.trial.TrialState.PRUNED)))
        print(f"study {study.study_name} in {storage}: {ended} trials ended, {max(0, n_trials - ended)} to run"
              + (f", {per_trial} seeds each (a trial is worth its worst)" if per_trial > 1 else ""), flush=True)
        if ended < n_trials:
            with ray_session(ray, address, workers):
                _search(ray, optuna, study, storage, env_id, base, n_trials - ended, steps, out, eval_every, kind,
                        per_trial)
        best = study.best_trial
        print(f"best: trial {best.number}, objective {best.value:.1f}")
        found = {"trial": best.number, "objective": best.value, "objective_is": OBJECTIVES[kind], "steps": steps,
                 "seeds": trial_seeds(best.number, per_trial), "params": best.params}
        shortlist = top_trials(optuna, study, candidates or 1, steps, out, kind, per_trial)
        chosen = f"trial{best.number}"
        if candidates:
            scores = validate(ray, shortlist, base, env_id, steps, kind, out / "validation", workers, address,
                              eval_every, validate_seeds)
            chosen = choose(scores)
            found["validation"] = validation_record(scores, validate_seeds, kind)
        changes = {"preset": {}, **shortlist}[chosen]
        print(f"chosen: {chosen}; as a preset, DQNConfig changes: {changes}")
        write_json(out / "best.json", found | {"chosen": chosen, "config_changes": changes})
    config = dataclasses.replace(base, **changes)
    name = "the preset" if chosen == "preset" else chosen
    report = [Trial(f"seed={s}", env_id, s, {"tuned": chosen}, config, base=name) for s in report_seeds]
    print(f"{chosen} on seeds the search and the choice never used ({', '.join(map(str, report_seeds))}):")
    rows = run_sweep(report, steps, out / f"report-{chosen}", workers, address, eval_every)
    return {"best": best.params, "chosen": chosen, "report": rows}


def check_seeds(n_trials: int, report_seeds: list[int], validate_seeds: list[int], per_trial: int = 1) -> None:
    """Refuse report or validation seeds the search trains on, and a report on seeds the choice saw."""
    if not (isinstance(per_trial, int) and per_trial >= 1):
        raise ValueError(f"--trial-seeds must be a positive integer, got {per_trial!r}")
    for flag, seeds in (("--report-seeds", report_seeds), ("--validate-seeds", validate_seeds)):
        searched = [s for s in seeds if SEARCH_SEEDS_FROM <= s < SEARCH_SEEDS_FROM + per_trial * n_trials]
        if searched:
            raise ValueError(f"{flag} {searched}: the search trains on those; give seeds it never used")
    if set(report_seeds) & set(validate_seeds):
        raise ValueError(f"--report-seeds and --validate-seeds share {sorted(set(report_seeds) & set(validate_seeds))}:"
                         " the report must be on seeds the choice never saw")


def open_study(optuna, name: str, storage: str, seed: int, terms: dict):
    """The study `name` in `storage`, made if new (TPE, median pruner) with `terms` (its budget,
    objective and seeds per trial) kept with it; refused if it exists under other terms, whose
    values do not compare. A study that kept no trial_seeds had one seed per trial."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=terms["steps"] // 4)
    study = optuna.create_study(study_name=name, storage=storage, load_if_exists=True, direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)
    if not study.user_attrs:
        for key, value in terms.items():
            study.set_user_attr(key, value)
    elif {key: study.user_attrs.get(key, 1 if key == "trial_seeds" else None) for key in terms} != terms:
        raise ValueError(f"the study in {storage} was run with {study.user_attrs}, not {terms}: give another --out")
    return study


def top_trials(optuna, study, how_many: int, steps: int, out: Path, kind: str = "late",
               per_trial: int = 1) -> dict[str, dict]:
    """{"trialN": its DQNConfig changes} of the study's `how_many` best finished trials; trials equal
    on the objective are ranked, as the choice ranks them, by the tie-break objective (on their worst
    seed, read from their folders in out/trials)."""
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    rank = {t.number: (t.value, search_tie_break(out, t.number, steps, kind, per_trial)) for t in done}
    best = sorted(done, key=lambda t: rank[t.number], reverse=True)[:how_many]
    return {f"trial{t.number}": sample_dqn(optuna.trial.FixedTrial(t.params), steps) for t in best}


def search_tie_break(out: Path, number: int, steps: int, kind: str, per_trial: int = 1) -> float:
    """Search trial `number`'s worst seed by the tie-break objective (-inf if a seed's run is gone)."""
    folder = out / "trials" / f"{number:04d}"
    folders = [folder] if per_trial == 1 else [folder / f"seed={seed}" for seed in trial_seeds(number, per_trial)]
    values = [objective(f, summary, steps, TIE_BREAK[kind]) for f in folders if (summary := finished(f, steps))]
    return min(values) if len(values) == len(folders) else float("-inf")


def choose(scores: dict[str, tuple[float, float]]) -> str:
    """The candidate whose (IQM of the objective, IQM of the tie-break) is highest: the objective
    decides, the tie-break only among candidates equal on it (on CartPole every candidate that holds
    500 to the end scores 500 on `late`, and `area` then prefers the one that got there sooner);
    among candidates equal on both, the first, so the preset keeps its place.

        >>> choose({"preset": (480.0, 400.0), "trial3": (500.0, 410.0), "trial7": (500.0, 450.0)})
        'trial7'
        >>> choose({"preset": (500.0, 450.0), "trial3": (500.0, 450.0)})
        'preset'
    """
    return max(scores, key=scores.get)


def validation_record(scores: dict[str, tuple[float, float]], seeds: list[int], kind: str) -> dict:
    """best.json's account of the choice: the seeds, and each candidate's two IQMs by name."""
    return {"seeds": list(seeds), "iqm_of_objective": {name: score[0] for name, score in scores.items()},
            "tie_break": TIE_BREAK[kind], "iqm_of_tie_break": {name: score[1] for name, score in scores.items()}}


def validate(ray, shortlist: dict[str, dict], base: DQNConfig, env_id: str, steps: int, kind: str, out: Path,
             workers: int | None, address: str | None, eval_every: int,
             seeds: list[int]) -> dict[str, tuple[float, float]]:
    """{candidate: (the IQM of its objective, the IQM of the tie-break objective) over `seeds`},
    for the shortlisted trials and the preset itself, each trained on every seed (a sweep of its
    own in out/NAME, so that a later shortlist, after more trials, reuses the runs it shares).

    NOTE: the search's best is flattered by the luck of its one seed; ten seeds it never saw pay
    that luck back, and the preset keeps its place unless a trial beats it there."""
    rows = {"preset": {}, **shortlist}
    print(f"choosing among {', '.join(rows)} on seeds {', '.join(map(str, seeds))}:", flush=True)
    scores = {}
    with ray_session(ray, address, workers):
        for name, changes in rows.items():
            config = dataclasses.replace(base, **changes)
            trials = [Trial(f"seed={s}", env_id, s, {"candidate": name}, config, base=name) for s in seeds]
            run_sweep(trials, steps, out / name, workers, address, eval_every)
    for name in rows:
        folders = [out / name / "trials" / f"seed={s}" for s in seeds]
        runs = [(f, summary) for f in folders if (summary := finished(f, steps))]
        scores[name] = tuple(round(float(iqm([objective(f, summary, steps, of) for f, summary in runs])), 2)
                             if runs else float("-inf") for of in (kind, TIE_BREAK[kind]))
        print(f"  {name}: IQM of the objective {scores[name][0]} over {len(runs)} seeds"
              f" ({TIE_BREAK[kind]}, the tie-break: {scores[name][1]})", flush=True)
    return scores


def _search(ray, optuna, study, storage: str, env_id: str, base: DQNConfig, n_trials: int, steps: int, out: Path,
            eval_every: int, kind: str, per_trial: int) -> None:
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
            trial = Trial(f"{proposal.number:04d}", env_id, trial_seeds(proposal.number, per_trial)[0], {}, config)
            ref = task.remote(storage, study.study_name, proposal._trial_id, trial, steps,
                              out / "trials" / trial.name, eval_every, kind, per_trial)
            running[ref] = proposal
        if not running:
            continue
        ready, _ = ray.wait(list(running), num_returns=1)
        proposal = running.pop(ready[0])
        try:
            state, value = ray.get(ready[0])
            study.tell(proposal, value if state == "done" else None,
                       state=optuna.trial.TrialState.COMPLETE if state == "done" else optuna.trial.TrialState.PRUNED)
        except Exception as error:  # noqa: BLE001  (a failed trial is told as failed; the search goes on)
            study.tell(proposal, state=optuna.trial.TrialState.FAIL)
            if lost_worker(ray, error):  # not the trial's fault: stop rather than fail every trial after it
                raise WorkerLost(f"Ray lost the worker running search trial {proposal.number} "
                                 f"({type(error).__name__}); the study keeps the trials that ended: run the same "
                                 "command to go on") from None
        ended += 1
        done = [t.value for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))]
        print(f"trial {proposal.number} {study.trials[proposal.number].state.name.lower()}; {ended}/{n_trials} ended"
              + (f"; best so far {max(done):.1f}" if done else ""), flush=True)
