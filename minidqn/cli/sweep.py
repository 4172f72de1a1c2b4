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
IQM with its 95% bootstrap interval, mean, median and the fraction solved (minidqn.stats).
"""

from __future__ import annotations

import contextlib
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
from minidqn.training.history import write_csv


def run_trial(trial: Trial, steps: int, folder: Path, eval_every: int, eval_episodes: int) -> dict:
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
                return resume_run(folder, steps - done, verbose=0)
            return train_new(trial.env_id, trial.config, steps, trial.seed, folder, eval_every=eval_every,
                             eval_episodes=eval_episodes, checkpoint_every=max(1, steps // 5), verbose=0,
                             overwrite=True)
        except FolderInUse:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


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
              eval_every: int = 5_000, eval_episodes: int = 20) -> list[dict]:
    """Run every trial not finished yet on Ray, print progress, write results.csv and summary.md."""
    try:
        import ray
    except ImportError:
        raise ValueError('minidqn sweep runs on Ray, which is not installed: pip install -e ".[sweep]"') from None
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out, f"minidqn sweep of {len(trials)} trials"):
        spec = {"steps": steps, "eval_every": eval_every, "eval_episodes": eval_episodes,
                "trials": [{"name": t.name, "env_id": t.env_id, "seed": t.seed, "swept": t.swept} for t in trials]}
        if (out / "sweep.json").exists() and json.loads((out / "sweep.json").read_text()) != spec:
            raise ValueError(f"{out} holds a different sweep (its sweep.json); give another --out")
        write_json(out / "sweep.json", spec)
        results = {t.name: finished(out / "trials" / t.name, steps) for t in trials}
        todo = [t for t in trials if results[t.name] is None]
        print(f"{len(trials)} trials, {len(trials) - len(todo)} finished already; {len(todo)} to run", flush=True)
        errors = {}
        if todo:
            with ray_session(ray, address, workers):
                errors = _run_on_ray(ray, todo, steps, out, eval_every, eval_episodes, results)
        rows = write_results(trials, results, errors, out, steps)
        write_summary(rows, trials, out)
        draw_curves(trials, results, out, steps)
    return rows


@contextlib.contextmanager
def ray_session(ray, address: str | None, workers: int | None) -> Iterator[None]:
    """Ray, for the `with` block: the cluster at `address`, or one started here with `workers` CPUs
    (default: every core); shut down at the end if it was started here."""
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, num_cpus=None if address else workers, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    try:
        yield
    finally:
        if started_here:
            ray.shutdown()


def _run_on_ray(ray, todo: list[Trial], steps: int, out: Path, eval_every: int, eval_episodes: int,
                results: dict) -> dict:
    """Submit the trials, print a progress line as they end; {trial name: error} of those that failed."""
    task = ray.remote(num_cpus=1, max_retries=0)(run_trial)
    pending = {task.remote(t, steps, out / "trials" / t.name, eval_every, eval_episodes): t for t in todo}
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
                errors[trial.name] = str(getattr(error, "cause", None) or error).strip().splitlines()[-1]
        elapsed, running = time.perf_counter() - start, min(len(pending), cpus)
        eta = f", about {elapsed / ended * len(pending):.0f} s left" if ended else ""  # at the pace so far
        print(f"{ended}/{len(todo)} ended ({len(errors)} failed), {running} running, {len(pending) - running} "
              f"waiting{eta}", flush=True)
        said = time.perf_counter()
    return errors


def write_results(trials: list[Trial], results: dict, errors: dict, out: Path, steps: int) -> list[dict]:
    """SWEEP/results.csv: trial, seed, each swept key, status, env_steps, final_return, steps_to_solve."""
    keys = list(dict.fromkeys(key for t in trials for key in t.swept))
    rows = []
    for t in trials:
        summary, folder = results.get(t.name), out / "trials" / t.name
        target = summary.get("target") if summary else None
        solve = None
        if summary and target is not None:  # the first evaluation during training at or above the target
            solve = next((int(step) for step, mean, *_ in read_evaluations(folder) if mean >= target), None)
        rows.append({"trial": t.name, "seed": t.seed, **{k: t.swept.get(k, "") for k in keys},
                     "status": "done" if summary else "failed", "env_steps": summary["env_steps"] if summary else "",
                     "final_return": summary["final_evaluation"]["mean"] if summary else "",
                     "steps_to_solve": "" if solve is None else solve, "error": errors.get(t.name, "")})
    write_csv(out / "results.csv", [list(rows[0]), *(list(row.values()) for row in rows)])
    return rows


def write_summary(rows: list[dict], trials: list[Trial], out: Path) -> None:
    """SWEEP/summary.md: per configuration, its runs' final returns read with minidqn.stats."""
    lines = ["| configuration | runs | IQM | 95% CI | mean | median | solved |", "|---|---|---|---|---|---|---|"]
    groups: dict[str, list[dict]] = {}
    for trial, row in zip(trials, rows):
        groups.setdefault(configuration(trial), []).append(row)
    for name, group in groups.items():
        finals = np.array([r["final_return"] for r in group if r["status"] == "done"], dtype=float)
        if not len(finals):
            lines.append(f"| {name} | 0 of {len(group)} | | | | | |")
            continue
        low, high = bootstrap_ci(finals, seed=0)
        solved = sum(r["steps_to_solve"] != "" for r in group)
        lines.append(f"| {name} | {len(finals)} of {len(group)} | {iqm(finals):.1f} | {low:.1f} – {high:.1f} | "
                     f"{finals.mean():.1f} | {np.median(finals):.1f} | {solved}/{len(group)} |")
    (out / "summary.md").write_text("Final greedy returns per configuration (IQM: interquartile mean; "
                                    "CI by stratified bootstrap; docs/experiments.md)\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


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
    plot_sweep_curves(curves, steps, out / "learning_curves.png", target, title=f"{trials[0].env_id}: "
                      f"{len(trials)} trials, IQM over each configuration's trials, 95% bootstrap band")
