"""`minidqn sweep`: the trials of a sweep run on Ray, each an ordinary run folder, then read with honest statistics.

Ray places the trials: on this machine by default (started here with one worker per core, or
`--workers N`), or on a running cluster (`--address auto`, `--address HOST:PORT`). Each trial is a
Ray task that calls the same `train_new` as `minidqn train`, into SWEEP/trials/NAME/; nothing
below the command line imports Ray, and this module imports it only when a sweep runs.

A sweep survives faults: a trial that raises is recorded as failed, with its error, and the rest
go on; run the same command again and the finished trials are skipped, an unfinished one resumes
from its last checkpoint (`resume_run`), and a failed one is tried again. The sweep folder's lock
refuses a second sweep into it, and its sweep.json refuses a different sweep. At the end
SWEEP/results.csv holds one row per trial and SWEEP/summary.md one line per configuration: runs,
IQM with its 95% bootstrap interval, mean, median and the fraction solved (minidqn.stats), then
the same statistics of the training episodes' returns, which papers on MinAtar and Atari report.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from minidqn.cli.folder_lock import FolderLock
from minidqn.cli.run_files import write_json
from minidqn.cli.run_reading import read_evaluations
from minidqn.experiments.sweep_spec import Trial, configuration
from minidqn.stats import bootstrap_ci, iqm
from minidqn.training.history import History, write_csv

TRAINING_EPISODES = 100  # a run's training return: the mean of its last 100 training episodes, as SB3 logs it


def run_trial(trial: Trial, steps: int, folder: Path, eval_every: int, eval_episodes: int,
              target: float | None = None) -> dict:
    """Train one trial into `folder` (runs in a Ray worker): from scratch, or on from the
    checkpoint an interrupted attempt left; its summary.

    NOTE: when a sweep's driver is killed, Ray's worker may finish the trial it was running
    before it notices (about a minute here), holding the trial folder's lock. A new run of the
    sweep then waits for that lock, and takes the trial as the orphan left it."""
    from minidqn.agents.dqn import DQNAgent
    from minidqn.cli.folder_lock import FolderInUse
    from minidqn.cli.run_folder import resume_run, train_new

    deadline = time.monotonic() + ORPHAN_WAIT
    while True:
        summary = finished(folder, steps)
        if summary is not None:
            return summary
        checkpoint = folder / "agent.npz"
        done = DQNAgent.load(checkpoint).num_steps if checkpoint.exists() and (folder / "run.json").exists() else 0
        try:
            if 0 < done < steps:
                summary = resume_run(folder, steps - done, verbose=0)
            else:
                summary = train_new(trial.env_id, trial.config, steps, trial.seed, folder, target, eval_every=eval_every,
                                    eval_episodes=eval_episodes, checkpoint_every=max(1, steps // 5), verbose=0,
                                    overwrite=True, wrap=trial.wrap)
        except FolderInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
            continue
        if summary["interrupted"]:  # a SIGINT reached the worker: the trial stopped, saved, before its budget
            raise RuntimeError(f"interrupted at env step {summary['env_steps']:,} of {steps:,}; its checkpoint is "
                               "kept, and running the sweep again goes on from it")
        return summary


ORPHAN_WAIT = 600.0  # seconds a trial waits for its folder's lock held by a killed sweep's worker


def finished(folder: Path, steps: int) -> dict | None:
    """The summary of a trial that ran its whole budget to the end, else None."""
    try:
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(summary, dict) and not summary.get("interrupted") and summary.get("env_steps") == steps
    return summary if ok else None


def run_sweep(trials: list[Trial], steps: int, out: Path, workers: int | None = None, address: str | None = None,
              eval_every: int = 5_000, eval_episodes: int = 20, target: float | None = None) -> list[dict]:
    """Run every trial not finished yet on Ray, print progress, write results.csv and summary.md.
    `target` is the mean return that counts as solved (default: each env's reward threshold)."""
    try:
        import ray
    except ImportError:
        raise ValueError('minidqn sweep runs on Ray, which is not installed: pip install -e ".[sweep]"') from None
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out, f"minidqn sweep of {len(trials)} trials"):
        spec = {"steps": steps, "eval_every": eval_every, "eval_episodes": eval_episodes,
                **({"target": target} if target is not None else {}),  # only when given: sweep.json stays the same without
                "trials": [{"name": t.name, "env_id": t.env_id, "seed": t.seed, "swept": t.swept,
                            **({"wrap": list(t.wrap)} if t.wrap else {})} for t in trials]}
        if (out / "sweep.json").exists() and json.loads((out / "sweep.json").read_text()) != spec:
            raise ValueError(f"{out} holds a different sweep (its sweep.json); give another --out")
        write_json(out / "sweep.json", spec)
        results = {t.name: finished(out / "trials" / t.name, steps) for t in trials}
        todo = [t for t in trials if results[t.name] is None]
        print(f"{len(trials)} trials, {len(trials) - len(todo)} finished already; {len(todo)} to run", flush=True)
        errors = {}
        if todo:
            with ray_session(ray, address, workers):
                errors = _run_on_ray(ray, todo, (steps, eval_every, eval_episodes, target), out, results)
        rows = write_results(trials, results, errors, out, steps)
        write_summary(rows, trials, out)
        draw_curves(trials, results, out, steps)
    return rows


@contextlib.contextmanager
def ray_session(ray, address: str | None, workers: int | None) -> Iterator[None]:
    """Ray, for the `with` block: the cluster at `address`, or one started here with `workers` CPUs
    (default: every core); shut down at the end if it was started here. Without an address it is
    always a new one ("local"): left to itself, Ray joins the cluster RAY_ADDRESS names or the last
    one `ray start` began on this machine, as its documentation says, and then refuses `workers`
    ("num_cpus and num_gpus must not be provided")."""
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address or "local", num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        if started_here:
            ray.shutdown()


class WorkerLost(OSError):
    """Ray lost a worker process or its node (killed, out of memory, its raylet gone): a failure
    of the machine, not of the trial, so the sweep or search stops instead of failing every trial
    after it; what finished is kept, and the same command goes on."""


def lost_worker(ray, error: Exception) -> bool:
    """Whether `error` is Ray's own failure, not one raised by the trial's code (a RayTaskError)."""
    return isinstance(error, ray.exceptions.RayError) and not isinstance(error, ray.exceptions.RayTaskError)


def _run_on_ray(ray, todo: list[Trial], measure: tuple, out: Path, results: dict) -> dict:
    """Submit the trials, print a progress line as they end; {trial name: error} of those that failed.
    `measure`: run_trial's steps, eval_every, eval_episodes and target."""
    steps, eval_every, eval_episodes, target = measure
    task = ray.remote(num_cpus=1, max_retries=0)(run_trial)
    pending = {task.remote(t, steps, out / "trials" / t.name, eval_every, eval_episodes, target): t for t in todo}
    errors, start, ended = {}, time.perf_counter(), 0
    said = start
    cpus = int(ray.cluster_resources().get("CPU", 1))  # trials that run at once: one CPU each
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
        if not ready and time.perf_counter() - said < 60:
            continue  # a line when a trial ends, or once a minute while none does
        for ref in ready:
            trial = pending.pop(ref)
            ended += 1
            try:
                results[trial.name] = ray.get(ref)
            except Exception as error:  # noqa: BLE001  (a trial's failure is recorded, the sweep goes on)
                if lost_worker(ray, error):
                    raise WorkerLost(f"Ray lost the worker running trial {trial.name} ({type(error).__name__}); "
                                     "the trials that finished are kept: run the same command to go on") from None
                errors[trial.name] = str(getattr(error, "cause", None) or error).strip().splitlines()[-1]
        elapsed, running = time.perf_counter() - start, min(len(pending), cpus)
        eta = f", about {elapsed / ended * len(pending):.0f} s left" if ended else ""  # at the pace so far
        print(f"{ended}/{len(todo)} ended ({len(errors)} failed), {running} running, {len(pending) - running} "
              f"waiting{eta}", flush=True)
        said = time.perf_counter()
    return errors


def write_results(trials: list[Trial], results: dict, errors: dict, out: Path, steps: int) -> list[dict]:
    """SWEEP/results.csv: trial, seed, each swept key, status, env_steps, final_return,
    training_return, steps_to_solve, seconds_to_solve, solved_at_end, error."""
    keys = list(dict.fromkeys(key for t in trials for key in t.swept))
    rows = []
    for t in trials:
        summary, folder = results.get(t.name), out / "trials" / t.name
        target = summary.get("target") if summary else None
        solve = None
        if summary and target is not None:  # the first evaluation during training at or above the target
            solve = next((int(step) for step, mean, *_ in read_evaluations(folder) if mean >= target), None)
        held = "" if not summary or summary.get("solved") is None else "yes" if summary["solved"] else "no"
        rows.append({"trial": t.name, "seed": t.seed, **{k: t.swept.get(k, "") for k in keys},
                     "status": "done" if summary else "failed", "env_steps": summary["env_steps"] if summary else "",
                     "final_return": summary["final_evaluation"]["mean"] if summary else "",
                     "training_return": training_return(folder) if summary else "",
                     "steps_to_solve": "" if solve is None else solve,
                     "seconds_to_solve": "" if solve is None else seconds_to(folder, solve), "solved_at_end": held,
                     "error": errors.get(t.name, "")})
    write_csv(out / "results.csv", [list(rows[0]), *(list(row.values()) for row in rows)])
    return rows


def training_return(folder: Path) -> float:
    """The mean return of a run's last TRAINING_EPISODES training episodes (history.csv): what
    the agent earned while it explored and learnt. MinAtar's reference DQN and Dopamine's papers
    report training episodes (Dopamine averages all of an iteration's), where the final return
    is a greedy test after training."""
    returns = History.from_csv(folder / "history.csv").episode_return[-TRAINING_EPISODES:]
    return round(float(np.mean(returns)), 4) if returns else float("nan")


def seconds_to(folder: Path, step: int) -> float | str:
    """Wall seconds of training, evaluations included, until the episode that ended at env step
    `step` (history.csv's wall_time); "" if the run was resumed before then, since each call of
    train() counts its own seconds."""
    history = History.from_csv(folder / "history.csv")
    until = [time for steps, time in zip(history.env_steps, history.wall_time) if steps <= step]
    resumed = any(later < earlier for earlier, later in itertools.pairwise(until))
    return "" if resumed or not until else round(until[-1], 2)


def write_summary(rows: list[dict], trials: list[Trial], out: Path) -> list[dict]:
    """SWEEP/summary.md: per configuration, its runs' final returns read with minidqn.stats, how
    many solved during training and how many were still solved at the end; the same, as dicts."""
    table = summary_table(rows, trials)
    lines = ["| configuration | runs | IQM | 95% CI | mean | median | lowest | solved | at the end | median steps to solve |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for t in table:
        if not t["finished"]:
            lines.append(f"| {t['configuration']} | 0 of {t['runs']} | | | | | | | | |")
            continue
        steps = "" if t["median_steps_to_solve"] is None else f"{t['median_steps_to_solve']:,.0f}" + (
            "" if t["solved"] == t["runs"] else f" (of {t['solved']})")
        solved = f"{t['solved']}/{t['runs']} | {t['held']}/{t['runs']}" if t["has_target"] else "– | –"
        lines.append(f"| {t['configuration']} | {t['finished']} of {t['runs']} | {t['iqm']:.1f} | {t['ci'][0]:.1f} – "
                     f"{t['ci'][1]:.1f} | {t['mean']:.1f} | {t['median']:.1f} | {t['lowest']:.1f} | {solved} | {steps} |")
    training = ["| configuration | runs | IQM | 95% CI | mean | lowest |", "|---|---|---|---|---|---|"]
    training += [f"| {t['configuration']} | {t['finished']} of {t['runs']} | {t['training_iqm']:.1f} | "
                 f"{t['training_ci'][0]:.1f} – {t['training_ci'][1]:.1f} | {t['training_mean']:.1f} | "
                 f"{t['training_lowest']:.1f} |" for t in table if t["finished"]]
    (out / "summary.md").write_text(
        "Final greedy returns per configuration (IQM: interquartile mean; CI by stratified bootstrap; "
        "docs/experiments.md). Solved: a greedy evaluation during training reached the target; at the end: "
        "the final evaluation did (–: no target, since the env has no reward threshold and none was given).\n\n" + "\n".join(lines) + "\n\n"
        f"Training returns per configuration: each run's mean over its last {TRAINING_EPISODES} training "
        "episodes, exploration included.\n\n" + "\n".join(training) + "\n")
    print("\n".join(lines))
    return table


def summary_table(rows: list[dict], trials: list[Trial]) -> list[dict]:
    """The rows of results.csv read per configuration (summarize), in the order of the trials."""
    groups: dict[str, list[dict]] = {}
    for trial, row in zip(trials, rows):
        groups.setdefault(configuration(trial), []).append(row)
    return [summarize(name, group) for name, group in groups.items()]


def summarize(name: str, group: list[dict]) -> dict:
    """One configuration's rows of results.csv read: IQM and 95% CI of the final returns, and the rest."""
    finals = np.array([r["final_return"] for r in group if r["status"] == "done"], dtype=float)
    solve_steps = [r["steps_to_solve"] for r in group if r["steps_to_solve"] != ""]
    seconds = [r["seconds_to_solve"] for r in group if r.get("seconds_to_solve", "") != ""]
    row = {"configuration": name, "runs": len(group), "finished": len(finals), "solved": len(solve_steps),
           "has_target": any(r["solved_at_end"] != "" for r in group),  # "" when no target was set
           "held": sum(r["solved_at_end"] == "yes" for r in group),
           "median_steps_to_solve": float(np.median(solve_steps)) if solve_steps else None,
           "median_seconds_to_solve": float(np.median(seconds)) if solve_steps and len(seconds) == len(solve_steps)
           else None}
    if len(finals):
        training = np.array([r["training_return"] for r in group if r["status"] == "done"], dtype=float)
        row |= {"iqm": iqm(finals), "ci": bootstrap_ci(finals, seed=0), "mean": float(finals.mean()),
                "median": float(np.median(finals)), "lowest": float(finals.min()),
                "training_iqm": iqm(training), "training_ci": bootstrap_ci(training, seed=0),
                "training_mean": float(training.mean()), "training_lowest": float(training.min())}
    return row


def draw_curves(trials: list[Trial], results: dict, out: Path, steps: int) -> None:
    """SWEEP/learning_curves.png: each configuration's evaluations during training, IQM and 95% band."""
    from minidqn.pictures.sweep_curves import (
        plot_sweep_curves,  # matplotlib only when drawing
    )

    curves: dict[str, list] = {}
    for t in trials:
        name = configuration(t)
        rows = read_evaluations(out / "trials" / t.name) if results.get(t.name) else []
        curves.setdefault(name, []).append((np.array([r[0] for r in rows]), np.array([r[1] for r in rows])))
    target = next((r["target"] for r in results.values() if r and r.get("target") is not None), None)
    plot_sweep_curves(curves, steps, out / "learning_curves.png", target, title=f"{trials[0].env_id}: {len(trials)} trials\n"
                      "IQM over each configuration's trials, 95% bootstrap band")  # two lines: long env ids fit
