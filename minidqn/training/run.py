"""What surrounds an agent's training loop but is not the algorithm: records, progress, checkpoints, Ctrl-C.

Both agents train the same way: `train(env, total_steps)` runs their loop inside a
`TrainingRun`, which checks the arguments, keeps the per-episode `History`, runs the callback at
each episode's end, prints progress, writes a checkpoint at the first episode end at or after
each multiple of `checkpoint_every` env steps, turns a Ctrl-C into an orderly stop between two
steps, and stops a diverged run (the divergence guard) before it can overwrite a good
checkpoint. The loop itself stays in the agent, where it reads like the algorithm.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time

import numpy as np
from threadpoolctl import threadpool_limits

from minidqn.common.files import check_writable
from minidqn.common.validation import is_int
from minidqn.training.history import Episode, History


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite TD loss or parameter; the message says when and what to try."""


class TrainingRun:
    """One train() call's bookkeeping. The agent's loop runs inside `with run:`, calls
    `log_loss(loss)` after every update and `log_step(...)` after every env step, and stops when
    `log_step` returns False (the callback asked to, the `episodes` budget is spent, or Ctrl-C
    was pressed).

    The agent provides num_steps, num_episodes, num_updates, epsilon(), save(path),
    non_finite() (what in its state is NaN or infinite, or None) and divergence_advice().
    """

    def __init__(self, agent, total_steps: int | None, callback=None, verbose: int = 1,
                 checkpoint_path: str | os.PathLike | None = None, checkpoint_every: int | None = None,
                 episodes: int | None = None):
        for name, value in (("total_steps", total_steps), ("episodes", episodes)):
            if value is not None and not (is_int(value) and value >= 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if total_steps is None and episodes is None:
            raise ValueError("give total_steps (env steps) or episodes")
        callbacks = [] if callback is None else list(callback) if isinstance(callback, (list, tuple)) else [callback]
        if not all(callable(c) for c in callbacks):
            raise TypeError(f"callback must be callable, a list of callables, or None; got {callback!r}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        check_checkpoint_arguments(checkpoint_path, checkpoint_every)
        self.agent, self.callbacks, self.episodes = agent, callbacks, episodes
        self.path, self.every = checkpoint_path, checkpoint_every
        self.history, self.progress = History(), Progress(total_steps, verbose)
        # The next multiple of checkpoint_every, counted over all train() calls; inf: never.
        self.next_save = (agent.num_steps // checkpoint_every + 1) * checkpoint_every if checkpoint_every else math.inf
        self.episode_return, self.episode_length, self.losses = 0.0, 0, []
        self.q_taken = []  # the episode's batches of predicted Q(sᵢ, aᵢ), read at its end
        self.ctrl_c = CtrlC()  # listening from `with run:` on

    def log_loss(self, loss: float, grad_norm: float = 0.0, q_taken=()) -> None:
        """Keep one update's loss and its batch's predicted Q(sᵢ, aᵢ) (`q_taken`: (B,)), whose mean
        and largest value over the episode go into its record; a NaN or infinite loss, or gradient
        norm ‖g‖, stops the run.

        NOTE: the guard checks two floats per update, no array: a NaN or infinite weight makes
        the next loss NaN, and a gradient whose squares overflow (which would make Adam's second
        moment inf while the loss stays finite) makes ‖g‖ inf."""
        if not math.isfinite(loss):
            raise self.diverged(f"the TD loss is {loss}")
        if not math.isfinite(grad_norm):
            raise self.diverged(f"the gradient norm is {grad_norm}: its squares overflow the network's floats, "
                                "so Adam's second moment would be inf")
        self.losses.append(loss)
        if len(q_taken):
            self.q_taken.append(q_taken)  # kept, and reduced once per episode rather than every update

    def log_step(self, reward: float, done: bool, epsilon: float, learning_rate: float) -> bool:
        """Count one env step; at an episode's end record it, run the callback, then write a
        checkpoint if one is due. False: stop training."""
        agent = self.agent
        self.episode_return += float(reward)
        self.episode_length += 1
        keep_going = True
        if done:
            mean_loss = float(np.mean(self.losses)) if self.losses else float("nan")
            q = np.concatenate([np.ravel(batch) for batch in self.q_taken]) if self.q_taken else np.full(1, np.nan)
            episode = Episode(agent.num_episodes, self.episode_return, self.episode_length, agent.num_steps,
                              epsilon, learning_rate, mean_loss, float(q.mean()), float(q.max()),
                              self.progress.elapsed())
            self.history.append(episode)
            self.progress.episode(agent, self.history)
            self.episode_return, self.episode_length, self.losses, self.q_taken = 0.0, 0, [], []
            # Every callback runs (a list of them: each in turn), and any one returning False stops.
            # NOTE: a list inside all(), not a generator: a generator would skip the callbacks after a False.
            keep_going = all([callback(agent, episode) is not False for callback in self.callbacks])  # noqa: C419
            keep_going = keep_going and (self.episodes is None or len(self.history) < self.episodes)
        keep_going = keep_going and not self.ctrl_c.pressed
        # NOTE: a periodic checkpoint waits for the episode's end. Mid-episode it would hold all
        # of the agent but not the env's state, so a run resumed from it could not go on as this one.
        if done and agent.num_steps >= self.next_save:
            self.save()
            self.next_save = (agent.num_steps // self.every + 1) * self.every
        self.progress.step(agent, self.history)
        return keep_going

    def save(self) -> None:
        """The divergence guard, then the checkpoint (if a path was given): a checkpoint is never
        written from a state holding NaN or inf, so the last one written stays good. The check
        scans every parameter: it runs at checkpoints and at the end, not every step."""
        problem = self.agent.non_finite()
        if problem is not None:
            raise self.diverged(problem)
        if self.path is not None:
            self.agent.save(self.path)

    def diverged(self, what: str) -> DivergenceError:
        """The error that stops a diverged run: when, what went wrong, what to try, what was kept."""
        agent = self.agent
        kept = ("No checkpoint was written (pass checkpoint_path and checkpoint_every to keep one)."
                if self.path is None or not os.path.exists(self.path) else
                f"The last good checkpoint, {os.fspath(self.path)}, is left as it was.")
        return DivergenceError(f"training diverged at env step {agent.num_steps:,} (update {agent.num_updates:,}): "
                               f"{what}. {agent.divergence_advice()} {kept}")

    def __enter__(self):  # the run itself, for `with run:`
        self.blas = one_blas_thread()
        self.ctrl_c.listen()
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        """At the end, or after Ctrl-C (the history so far is kept and returned), the divergence
        guard and a last checkpoint. An error propagates untouched, with no checkpoint written
        from the state it left: a KeyboardInterrupt too (a second Ctrl-C, or one raised by a
        callback), since it may have come in the middle of a step. BLAS gets back the threads it
        had, and SIGINT its handler."""
        with self.blas:
            self.ctrl_c.restore()
            if kind is not None:
                return False
            self.save()
            if self.ctrl_c.pressed:
                saved = (f"saved a checkpoint to {os.fspath(self.path)}" if self.path is not None
                         else "no checkpoint_path, nothing saved")
                print(f"training interrupted at env step {self.agent.num_steps:,}: {saved}", flush=True)
            self.progress.close(self.agent, self.history, stopped=self.ctrl_c.pressed)
            return True


class CtrlC:
    """Ctrl-C during training as a request, not an exception: the first SIGINT sets `pressed`,
    which log_step reads once per env step, so training stops between two steps and the state it
    saves is one the agent was in. An exception raised wherever the signal lands could stop it
    in the middle of one (Adam's moments updated but not θ, a replay slot half-written, a writer
    holding its lock, which then never lets go). The handler puts the previous one back at
    once, so a second Ctrl-C is Python's own KeyboardInterrupt, for a user who will not wait.

    NOTE: a handler can only be set from the main thread, and only replaces one set from
    Python. Elsewhere (a worker thread, SIGINT ignored, a handler set in C) nothing changes."""

    def __init__(self):
        self.pressed, self.previous = False, None

    def listen(self) -> None:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if callable(previous):  # not SIG_IGN, SIG_DFL, or None (a handler set outside Python)
                self.previous = signal.signal(signal.SIGINT, self.press)

    def press(self, signum, frame) -> None:
        self.pressed = True
        self.restore()

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


def one_blas_thread() -> contextlib.AbstractContextManager:
    """One BLAS thread from now until the returned context exits, unless the user chose a thread
    count with OPENBLAS_NUM_THREADS or OMP_NUM_THREADS.

    NOTE: the matrices here are tiny (a batch of 64 by a few hundred units), so a second BLAS
    thread only spins against the env and the other processes; docs/benchmarks.md measures it.
    threadpoolctl changes the running library's setting, so it works whenever NumPy was imported
    (an environment variable is read once, when NumPy loads)."""
    if "OPENBLAS_NUM_THREADS" in os.environ or "OMP_NUM_THREADS" in os.environ:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")  # set now; restored when the context exits


def check_checkpoint_arguments(path: str | os.PathLike | None, every: int | None) -> None:
    """ValueError now, rather than hours into a run, for train()'s checkpoint_path and
    checkpoint_every if a checkpoint could not be written as asked."""
    if every is not None and not (is_int(every) and every >= 1):
        raise ValueError(f"checkpoint_every must be a positive integer (env steps) or None, got {every!r}")
    if every is not None and path is None:
        raise ValueError("checkpoint_every needs a checkpoint_path to write to")
    if path is not None:
        check_writable(path)  # a folder, a missing folder, no permission: refused before the first step


class Progress:
    """Progress output of train(): a line every few seconds (verbose=1) or per episode (2)."""

    def __init__(self, total_steps: int | None, verbose: int, every_seconds: float = 2.0):
        self.total, self.verbose, self.every = total_steps, verbose, every_seconds
        self.start = self.last = time.perf_counter()
        self.steps = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def _line(self, agent, history: History, done: str = "") -> str:
        elapsed = self.elapsed()
        rate = self.steps / elapsed if elapsed > 0 else 0.0
        recent = history.episode_return[-10:]
        mean = f"{np.mean(recent):7.1f}" if recent else "    n/a"
        if done:
            left = done
        elif self.total is None or rate == 0:
            left = ""
        else:
            left = f"{(self.total - self.steps) / rate:5.0f} s left"
        return (f"step {agent.num_steps:>8,}  episode {agent.num_episodes:>5}  return(last 10) {mean}"
                f"  ε {agent.epsilon():.3f}  {rate:6,.0f} steps/s  {left}").rstrip()

    def step(self, agent, history: History) -> None:
        self.steps += 1
        if self.verbose == 1 and self.steps % 256 == 0:  # reading the clock every step costs
            now = time.perf_counter()
            if now - self.last >= self.every:
                self.last = now
                print(self._line(agent, history), flush=True)

    def episode(self, agent, history: History) -> None:
        if self.verbose >= 2:
            print(f"episode {agent.num_episodes:>5}  return {history.episode_return[-1]:7.1f}  "
                  f"length {history.episode_length[-1]:4d}  loss {history.mean_loss[-1]:.4f}  "
                  f"ε {history.epsilon[-1]:.3f}  step {agent.num_steps:,}", flush=True)

    def close(self, agent, history: History, stopped: bool = False) -> None:
        if self.verbose >= 1:
            print(self._line(agent, history, done="stopped" if stopped else "done"), flush=True)
