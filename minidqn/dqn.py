"""Deep Q-Network (Mnih et al., 2015): Q-learning with an MLP, experience replay and a target network.

Run `python demos/cartpole.py` to watch it learn CartPole; docs/dqn.md maps each equation here
to its line, and lists where this implementation departs from the paper.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from minidqn import checkpoint
from minidqn.history import History
from minidqn.losses import huber_loss, mse_loss
from minidqn.nn import MLP, soft_update
from minidqn.nstep import NStepTransitions
from minidqn.optim import Adam
from minidqn.progress import Progress
from minidqn.replay import ReplayBuffer
from minidqn.schedules import ConstantSchedule, ExponentialSchedule, LinearSchedule
from minidqn.validation import check, is_int, is_real, make_plain


@dataclass(frozen=True)
class DQNConfig:
    """Every hyperparameter of the agent. The defaults solve CartPole-v1 (docs/benchmarks.md)."""

    hidden_sizes: tuple[int, ...] = (64, 64)  # widths of the hidden ReLU layers
    gamma: float = 0.995  # γ, discount factor
    n_step: int = 3  # n, rewards summed before the target bootstraps with γⁿ (minidqn/nstep.py); 1: one-step TD
    lr: float = 2e-3  # Adam's step size at the start
    lr_end: float | None = 1e-5  # if set, the step size decays linearly to this over the first train()
    batch_size: int = 64  # B, transitions per gradient step
    buffer_size: int = 100_000  # replay capacity, in transitions
    learning_starts: int = 1000  # env steps before the first gradient step (acting with ε as scheduled)
    train_freq: int = 1  # env steps between learning phases
    gradient_steps: int = 1  # gradient steps per learning phase
    tau: float = 0.01  # τ, target update θ⁻ ← τθ + (1−τ)θ⁻; 1.0 is a hard copy
    target_update_interval: int = 1  # C, gradient steps between target updates
    # NOTE: Huber with a δ far below the scale of Q (here up to 1/(1−γ)) lets the rare terminal
    # transitions, whose TD errors are large, pull no harder than δ each: outvoted by the many
    # bootstrapped ones, Q can drift far above any possible return. docs/dqn.md shows a run.
    loss: str = "mse"  # TD loss: "mse" or "huber"
    huber_delta: float = 1.0  # δ where Huber turns from quadratic to linear
    max_grad_norm: float | None = 10.0  # clip the global gradient norm; None: no clipping
    double_dqn: bool = True  # online net picks a′, target net evaluates it (van Hasselt, 2016)
    dueling: bool = True  # head Q = V + A − mean(A) (Wang et al., 2016); see minidqn.nn.Dueling
    exploration: str = "linear"  # ε schedule: "constant", "linear" or "exponential"
    epsilon_start: float = 1.0  # ε at step 0 (linear, exponential)
    epsilon_end: float = 0.1  # final ε; the constant ε of "constant"
    exploration_fraction: float = 0.1  # linear: share of the first train()'s steps spent annealing
    epsilon_decay: float = 0.999  # exponential: ε multiplied by this every env step
    dtype: str = "float32"  # network and replay precision; float32 is faster on the CPU

    def __post_init__(self):
        # NOTE: a dataclass does not check types. DQNConfig(double_dqn="False") would turn double
        # DQN *on* ("False" is a non-empty string, so it is true), and a gamma read from a text
        # file as "0.99" would fail deep inside training. So every field's type is checked too.
        check(self, isinstance(self.hidden_sizes, (tuple, list)) and len(self.hidden_sizes) >= 1
              and all(is_int(h) and h >= 1 for h in self.hidden_sizes), "hidden_sizes",
              "a non-empty tuple of positive integers")
        check(self, is_real(self.gamma) and 0.0 <= self.gamma <= 1.0, "gamma", "a number in [0, 1]")
        check(self, is_real(self.lr) and 0 < self.lr <= 1, "lr", "a number in (0, 1]")
        check(self, self.lr_end is None or (is_real(self.lr_end) and 0 < self.lr_end <= self.lr), "lr_end",
              f"a number in (0, lr={self.lr}] or None")
        for name in ("n_step", "batch_size", "buffer_size", "train_freq", "gradient_steps", "target_update_interval"):
            check(self, is_int(getattr(self, name)) and getattr(self, name) >= 1, name, "a positive integer")
        check(self, is_int(self.learning_starts) and self.learning_starts >= 0, "learning_starts",
              "an integer ≥ 0")
        check(self, self.batch_size <= self.buffer_size, "batch_size", f"at most buffer_size ({self.buffer_size})")
        check(self, is_real(self.tau) and 0.0 < self.tau <= 1.0, "tau", "a number in (0, 1]")
        check(self, isinstance(self.loss, str) and self.loss in ("huber", "mse"), "loss", "'huber' or 'mse'")
        check(self, is_real(self.huber_delta) and self.huber_delta > 0, "huber_delta", "a finite number > 0")
        check(self, self.max_grad_norm is None or (is_real(self.max_grad_norm) and self.max_grad_norm > 0),
              "max_grad_norm", "a finite number > 0, or None")
        for name in ("double_dqn", "dueling"):
            check(self, isinstance(getattr(self, name), (bool, np.bool_)), name, "True or False")
        schedules = ("constant", "linear", "exponential")
        check(self, isinstance(self.exploration, str) and self.exploration in schedules, "exploration",
              "'constant', 'linear' or 'exponential'")
        for name in ("epsilon_start", "epsilon_end"):
            value = getattr(self, name)
            check(self, is_real(value) and 0.0 <= value <= 1.0, name, "a number in [0, 1]")
        check(self, is_real(self.exploration_fraction) and 0.0 < self.exploration_fraction <= 1.0,
              "exploration_fraction", "a number in (0, 1]")
        check(self, is_real(self.epsilon_decay) and 0.0 < self.epsilon_decay < 1.0, "epsilon_decay",
              "a number in (0, 1)")
        check(self, isinstance(self.dtype, str) and self.dtype in ("float32", "float64"), "dtype",
              "'float32' or 'float64'")
        make_plain(self)  # NumPy scalars become Python values: a checkpoint stores the config as JSON


def keras_rl_target_update(target_model_update: float) -> dict:
    """DQNConfig fields for keras-rl's `target_model_update`: a value ≥ 1 is a hard copy every
    that many steps; a value < 1 is τ of a soft update after every step.

    keras-rl counts the hard-copy interval in env steps, warm-up included; minidqn counts
    gradient steps. With train_freq = gradient_steps = 1 the two differ only by the warm-up.

        >>> keras_rl_target_update(1e-2)
        {'tau': 0.01, 'target_update_interval': 1}
        >>> keras_rl_target_update(10000)
        {'tau': 1.0, 'target_update_interval': 10000}
    """
    if target_model_update <= 0:
        raise ValueError(f"target_model_update must be > 0, got {target_model_update}")
    if target_model_update >= 1:
        return {"tau": 1.0, "target_update_interval": int(target_model_update)}
    return {"tau": float(target_model_update), "target_update_interval": 1}


def keras_rl_config() -> DQNConfig:
    """The agent of the keras-rl CartPole tutorial minidqn grew from, as a DQNConfig.

    The tutorial sets one hidden layer of 16 ReLUs, SequentialMemory(limit=50000),
    nb_steps_warmup=10, target_model_update=1e-2 (soft, τ = 0.01), Adam(lr=1e-3) and
    EpsGreedyQPolicy (a constant ε = 0.1); keras-rl's own defaults fill in the rest: batch 32,
    γ = 0.99, double DQN on, one-step targets, no dueling head (keras-rl's enable_dueling_network
    is off by default), and an unclipped squared TD error (delta_clip = ∞), no gradient clipping.
    It trained for 5,000 steps on CartPole-v0.
    """
    return DQNConfig(hidden_sizes=(16,), buffer_size=50_000, learning_starts=10, lr=1e-3, lr_end=None,
                     batch_size=32, gamma=0.99, n_step=1, loss="mse", max_grad_norm=None, double_dqn=True,
                     dueling=False, exploration="constant", epsilon_end=0.1, **keras_rl_target_update(1e-2))


class DQNAgent:
    """A DQN agent for a `Box` observation of shape (D,) and `Discrete` actions 0..A−1."""

    def __init__(self, observation_space, action_space, config: DQNConfig | None = None, seed: int = 0):
        self.obs_dim, self.n_actions = check_spaces(observation_space, action_space)
        self.observation_space, self.action_space = observation_space, action_space
        self.config = config = config if config is not None else DQNConfig()
        if not isinstance(config, DQNConfig):
            raise TypeError(f"config must be a DQNConfig, got {type(config).__name__}")
        if not (is_int(seed) and seed >= 0):
            raise ValueError(f"seed must be an integer ≥ 0, got {seed!r}")
        self.dtype = np.dtype(config.dtype)
        self.seed = int(seed)
        # One seed, one tree of generators: network init, exploration, replay sampling, env resets.
        init_seq, act_seq, replay_seq, env_seq = np.random.SeedSequence(seed).spawn(4)
        self.rng = np.random.default_rng(act_seq)
        self.replay_rng = np.random.default_rng(replay_seq)
        self.env_rng = np.random.default_rng(env_seq)

        sizes = [self.obs_dim, *config.hidden_sizes, self.n_actions]
        self.online = MLP(sizes, seed=np.random.default_rng(init_seq), dtype=self.dtype, dueling=config.dueling)
        # NOTE: the target network is a copy with its own memory, never an alias of `online`.
        self.target = self.online.clone()
        # NOTE: all parameters are views of one vector θ, so Adam over [θ] is exactly Adam over
        # every W and b, applied elementwise, in one vector operation instead of one per array.
        self.optimizer = Adam([self.online.flat_params], lr=config.lr, max_grad_norm=config.max_grad_norm)
        self.buffer = ReplayBuffer(config.buffer_size, dtype=self.dtype)
        self.n_step_transitions = NStepTransitions(config.n_step, config.gamma)  # folds steps before storing
        self.loss_fn = mse_loss if config.loss == "mse" else _huber(config.huber_delta)

        self.num_steps = 0  # env steps taken in training, over all train() calls
        self.num_updates = 0  # gradient steps taken
        self.num_episodes = 0  # training episodes finished
        self.horizon: int | None = None  # total_steps of the first train(): the schedules' time scale
        self.schedule = self._make_schedule()

    # --- acting ----------------------------------------------------------------------------
    def epsilon(self, step: int | None = None) -> float:
        """ε of the exploration schedule at env step `step` (default: now)."""
        return self.schedule(self.num_steps if step is None else step)

    def _make_schedule(self):
        c = self.config
        if c.exploration == "constant":
            return ConstantSchedule(c.epsilon_end)
        if c.exploration == "exponential":
            return ExponentialSchedule(c.epsilon_start, c.epsilon_end, c.epsilon_decay)
        # The linear horizon is a share of the first train() call's steps; until then, ε stays at
        # its start.
        duration = max(1, int(c.exploration_fraction * self.horizon)) if self.horizon else 10**18
        return LinearSchedule(c.epsilon_start, c.epsilon_end, duration)

    def learning_rate(self, step: int | None = None) -> float:
        """Adam's step size at env step `step` (default: now): lr, or a line from lr to lr_end."""
        c = self.config
        if c.lr_end is None or self.horizon is None:
            return c.lr
        t = self.num_steps if step is None else step
        return c.lr + (c.lr_end - c.lr) * min(1.0, t / self.horizon)

    def act(self, obs, epsilon: float = 0.0) -> int:
        """ε-greedy: a uniformly random action with probability ε, else argmaxₐ Q(obs, a)."""
        obs = np.asarray(obs, dtype=self.dtype)
        if obs.shape != (self.obs_dim,):
            raise ValueError(f"obs must have shape ({self.obs_dim},), got {obs.shape}")
        if not np.all(np.isfinite(obs)):
            raise ValueError(f"obs must be finite, got {obs}")
        if not (is_real(epsilon) and 0.0 <= epsilon <= 1.0):
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        return self._act(obs, epsilon)

    def _act(self, obs: np.ndarray, epsilon: float) -> int:
        if epsilon > 0.0 and self.rng.random() < epsilon:
            return int(self.rng.integers(self.n_actions))
        return int(self.online.predict(obs[None]).argmax())  # (1, D) -> (1, A) -> a

    def q_values(self, obs) -> np.ndarray:
        """Q(obs, ·) of the online network: (B, D) -> (B, A), or (D,) -> (A,)."""
        obs = np.asarray(obs, dtype=self.dtype)
        return self.online.predict(obs[None])[0] if obs.ndim == 1 else self.online.predict(obs)

    # --- learning --------------------------------------------------------------------------
    def td_target(self, rewards: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray) -> np.ndarray:
        """y = r + γⁿ·(1 − terminated)·Q_target(s′, a′): (B,), with

            r the (n-step) return stored with the transition and s′ the state n steps later
            (n = config.n_step; with n = 1, the reward and the next state), and

            a′ = argmaxₐ Q_online(s′, a)   if double_dqn (the online net picks, the target judges)
            a′ = argmaxₐ Q_target(s′, a)   otherwise, so the term is maxₐ Q_target(s′, a).

        No gradient flows through y: it is the regression target.
        """
        next_q = self.target.predict(next_obs)  # (B, A)
        if self.config.double_dqn:
            next_actions = self.online.predict(next_obs).argmax(axis=1)  # (B,)
            next_value = next_q[np.arange(len(next_q)), next_actions]  # (B,)
        else:
            next_value = next_q.max(axis=1)  # (B,)
        return rewards + self.config.gamma**self.config.n_step * (1.0 - terminated) * next_value

    def compute_loss(self, batch) -> float:
        """The TD loss of `batch` = (obs, actions, rewards, next_obs, terminated), leaving its
        gradient with respect to the online parameters in `online.grads` (overwritten).

        Only the online network is differentiated: the target y is a constant of the loss
        (a semi-gradient method), so the target network never receives a gradient.
        """
        obs, actions, rewards, next_obs, terminated = batch
        targets = self.td_target(rewards, next_obs, terminated)  # (B,)
        q = self.online.forward(obs)  # (B, A)
        loss, grad_q = self.loss_fn(q, actions, targets)  # grad_q: (B, A), nonzero at aᵢ only
        self.online.backward(grad_q, input_grad=False)  # dL/dθ only: the states are data
        return loss

    def learn(self) -> float:
        """One gradient step on a replayed mini-batch, then the target update every C steps;
        returns the TD loss before the step."""
        c = self.config
        loss = self.compute_loss(self.buffer.sample(c.batch_size, self.replay_rng))
        if c.lr_end is not None:
            self.optimizer.lr = self.learning_rate()
        self.optimizer.step([self.online.flat_grads])
        self.num_updates += 1
        if self.num_updates % c.target_update_interval == 0:
            soft_update(self.target, self.online, c.tau)
        return loss

    def train(self, env, total_steps: int, callback=None, verbose: int = 1,
              checkpoint_path: str | os.PathLike | None = None, checkpoint_every: int | None = None) -> History:
        """Run the DQN loop for `total_steps` env steps and return the history of the episodes
        finished in this call.

        `callback(agent, step)` runs at the end of each episode; returning False stops training.
        A second call continues the step counter and the ε schedule, starting a fresh episode.
        verbose: 0 silent, 1 a progress line every few seconds, 2 a line per episode.

        With `checkpoint_path`, the agent is saved there (atomically, see `save`) each time
        num_steps reaches a multiple of `checkpoint_every`, when the call ends, and on Ctrl-C: a
        KeyboardInterrupt ends the call early and returns the history so far. If the TD loss or
        a parameter becomes NaN or infinite, a DivergenceError stops training; a checkpoint is
        only ever written with every parameter finite, so the last one is left good.
        """
        if not (is_int(total_steps) and total_steps >= 1):
            raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None, got {callback!r}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        checkpoint.check_arguments(checkpoint_path, checkpoint_every)
        check_spaces(env.observation_space, env.action_space, self.obs_dim, self.n_actions)
        c = self.config
        if self.horizon is None:
            self.horizon = total_steps
            self.schedule = self._make_schedule()
        history, progress = History(), Progress(total_steps, verbose)
        # The next multiple of checkpoint_every, counted over all train() calls; -1: never.
        next_save = (self.num_steps // checkpoint_every + 1) * checkpoint_every if checkpoint_every else -1
        obs, _ = env.reset(seed=int(self.env_rng.integers(2**31)))
        obs = np.asarray(obs, self.dtype)
        self.n_step_transitions.reset()  # a fresh episode: nothing of the last call's episode is folded into it
        episode_return, episode_length, episode_losses = 0.0, 0, []
        interrupted = False
        try:
            for _ in range(total_steps):
                # 1. Act ε-greedily in the current state.
                epsilon = self.epsilon()
                action = self._act(obs, epsilon)
                # 2. Step the environment.
                next_obs, reward, terminated, truncated, _ = env.step(action)
                next_obs = np.asarray(next_obs, self.dtype)
                # 3. Store the transition (with n_step > 1: the n-step transitions it completes).
                # NOTE: store `terminated`, not `terminated or truncated`. A time limit (truncation)
                # stops the episode but not the task: the state after it still has value, so the TD
                # target must bootstrap from it. Only a true termination has no future.
                for transition in self.n_step_transitions.add(obs, action, reward, next_obs, terminated, truncated):
                    self.buffer.push(*transition)
                obs = next_obs  # NOTE: without this the agent would act forever from the first state
                self.num_steps += 1
                episode_return += reward
                episode_length += 1
                # 4. Learn from a replayed mini-batch, and 5. move the target network (inside learn).
                if self.num_steps > c.learning_starts and self.num_steps % c.train_freq == 0:
                    for _ in range(c.gradient_steps):
                        loss = self.learn()
                        # NOTE: the divergence guard checks one float per step, no array: a NaN
                        # or infinite weight makes the next loss NaN, so the loss catches both.
                        if not math.isfinite(loss):
                            raise checkpoint.diverged(self, f"the TD loss is {loss}", checkpoint_path)
                        episode_losses.append(loss)
                # 6. Log the finished episode and start a new one.
                if terminated or truncated:
                    self.num_episodes += 1
                    mean_loss = float(np.mean(episode_losses)) if episode_losses else float("nan")
                    history.append(episode_return, episode_length, epsilon, mean_loss, self.num_steps,
                                   progress.elapsed())
                    progress.episode(self, history)
                    if callback is not None and callback(self, self.num_steps) is False:
                        break
                    obs, _ = env.reset()
                    obs = np.asarray(obs, self.dtype)
                    episode_return, episode_length, episode_losses = 0.0, 0, []
                # 7. Save a checkpoint every checkpoint_every env steps.
                if self.num_steps == next_save:
                    checkpoint.save_if_finite(self, checkpoint_path)
                    next_save += checkpoint_every
                progress.step(self, history)
        except KeyboardInterrupt:  # Ctrl-C: keep what was learned, return the history so far
            interrupted = True
        checkpoint.save_if_finite(self, checkpoint_path)  # the full NaN/inf scan, then the last checkpoint
        if interrupted:
            saved = (f"saved a checkpoint to {os.fspath(checkpoint_path)}" if checkpoint_path is not None
                     else "no checkpoint_path, nothing saved")
            print(f"training interrupted at env step {self.num_steps:,}: {saved}", flush=True)
        progress.close(self, history)
        return history

    def evaluate(self, env, episodes: int = 10, seed: int = 0) -> np.ndarray:
        """Greedy (ε = 0) returns of `episodes` episodes; the env is reset with `seed` first."""
        if not (is_int(episodes) and episodes >= 1):
            raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
        returns = np.zeros(episodes)
        for i in range(episodes):
            obs, _ = env.reset(seed=seed if i == 0 else None)
            done = False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(self._act(np.asarray(obs, self.dtype), 0.0))
                returns[i] += reward
                done = terminated or truncated
        return returns

    # --- checkpoints ---------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write everything needed to continue training (networks, Adam, counters, replay buffer,
        generators) to one .npz at exactly `path`, atomically: see minidqn/checkpoint.py."""
        checkpoint.save_dqn(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DQNAgent:
        """The agent saved at `path`, ready to act or to train on exactly as if never stopped.
        Never unpickles; a file that is not such a checkpoint raises a ValueError saying why."""
        return checkpoint.load_dqn(cls, path)


def check_spaces(observation_space, action_space, obs_dim: int | None = None, n_actions: int | None = None):
    """(D, A) for a Box observation of shape (D,) and Discrete(A) actions; ValueError otherwise."""
    from gymnasium import spaces

    is_box = isinstance(observation_space, spaces.Box)
    if not (is_box and len(observation_space.shape) == 1 and observation_space.shape[0] >= 1):
        raise ValueError(
            "DQNAgent supports a Box observation space of shape (D,) (a flat vector); got "
            f"{observation_space}. Flatten images or wrap Discrete observations as one-hot vectors."
        )
    if not isinstance(action_space, spaces.Discrete) or int(action_space.start) != 0:
        raise ValueError(f"DQNAgent supports Discrete(n) action spaces starting at 0; got {action_space}")
    D, A = int(observation_space.shape[0]), int(action_space.n)
    if obs_dim is not None and (D, A) != (obs_dim, n_actions):
        raise ValueError(f"env has observation size {D} and {A} actions; the agent was built for "
                         f"{obs_dim} and {n_actions}")
    return D, A


def _huber(delta: float):
    def loss(q, actions, targets):
        return huber_loss(q, actions, targets, delta=delta)

    return loss

