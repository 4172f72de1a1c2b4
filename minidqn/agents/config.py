"""The agents' hyperparameters: one frozen dataclass per agent, each field with its symbol, checked.

A bad value fails at once with a ValueError naming the field and the allowed range, and NumPy
scalars become Python values, so that a checkpoint can store a config as JSON and rebuild an
equal one. Every field is also a command-line flag of the demos (minidqn.cli.flags).

    >>> DQNConfig(gamma=1.5)
    Traceback (most recent call last):
    ...
    ValueError: DQNConfig.gamma must be a number in [0, 1], got 1.5
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from itertools import pairwise

import numpy as np

from minidqn.common.validation import MAX_COUNT, check, is_int, is_real, make_plain

# Upper bounds, so that a typo or a crafted checkpoint fails at once, naming the field, instead of
# allocating for minutes and failing with a MemoryError. Each is far beyond any run on one CPU.
MAX_BUFFER = 10**8  # replay capacity: 10⁸ CartPole transitions already take 4.4 GB
MAX_N_STEP = 1_000  # n of n-step returns
MAX_WIDTH = 65_536  # units in one hidden layer, or channels in one conv layer
MAX_KERNEL = 64  # k of a conv layer's k×k filters
MAX_PARAMETERS = 10**8  # weights in one network (0.4 GB in float32, and twice that with its target)


@dataclass(frozen=True)
class DQNConfig:
    """Every hyperparameter of the agent. The defaults solve CartPole-v1 (docs/benchmarks.md)."""

    hidden_sizes: tuple[int, ...] = (64, 64)  # widths of the hidden ReLU layers
    conv_layers: tuple[tuple[int, int], ...] = ()  # (out_channels, kernel_size) of each conv layer before them; (): MLP
    gamma: float = 0.995  # γ, discount factor
    n_step: int = 3  # n, rewards summed before the target bootstraps with γⁿ (minidqn/memory/nstep.py); 1: one-step TD
    lr: float = 2e-3  # Adam's step size at the start
    lr_end: float | None = 1e-5  # if set, the step size falls linearly to this over lr_decay_steps
    lr_decay_steps: int = 50_000  # env steps over which the step size falls from lr to lr_end
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
    loss: str = "mse"  # TD loss of one Q per action: "mse" or "huber" (a distribution has its own)
    huber_delta: float = 1.0  # δ where Huber turns from quadratic to linear; κ of QR-DQN's quantile Huber loss
    max_grad_norm: float | None = 10.0  # clip the global gradient norm; None: no clipping
    double_dqn: bool = True  # online net picks a′, target net evaluates it (van Hasselt, 2016)
    dueling: bool = True  # head Q = V + A − mean(A) (Wang et al., 2016); see minidqn.nn.dueling.Dueling
    dueling_type: str = "avg"  # the head's A term, as keras-rl names it: "avg" − mean(A), "max" − max(A), "naive" none
    exploration: str = "linear"  # ε schedule "constant", "linear" or "exponential"; or "boltzmann" (no ε)
    epsilon_start: float = 1.0  # ε at step 0 (linear, exponential)
    epsilon_end: float = 0.1  # final ε; the constant ε of "constant"
    exploration_steps: int = 5_000  # linear: env steps over which ε falls from epsilon_start to epsilon_end
    epsilon_decay: float = 0.999  # exponential: ε multiplied by this every env step
    temperature: float = 1.0  # boltzmann: T in P(a|s) ∝ exp(Q(s,a)/T); small T is nearly greedy
    dtype: str = "float32"  # network and replay precision; float32 is faster on the CPU
    prioritized_replay: bool = False  # draw transitions by |TD error| (minidqn.memory.prioritized.PrioritizedReplayBuffer)
    compact_observations: bool = False  # replay keeps observations as uint8, for whole numbers 0..255 (MinAtar)
    priority_alpha: float = 0.6  # α: P(i) ∝ pᵢ^α; 0 is uniform replay
    priority_beta_start: float = 0.4  # β of the importance weights (N·P(i))^(−β) at step 0
    priority_beta_steps: int = 50_000  # env steps over which β rises linearly to 1 (full correction)
    # Rainbow's other two parts: the return's distribution (minidqn.distributional), and noisy layers (minidqn.nn.noisy).
    distribution: str | None = None  # None: one Q per action; "categorical": C51's atoms; "quantile": QR-DQN's
    num_atoms: int = 51  # N, atoms (categorical) or quantiles (quantile) per action
    v_min: float = -10.0  # categorical: the lowest atom of the support
    v_max: float = 10.0  # categorical: the highest atom
    noisy: bool = False  # noisy linear layers explore (minidqn.nn.noisy), and ε is 0
    noisy_sigma0: float = 0.5  # σ₀: each noisy layer's σ starts at σ₀/√D_in

    def __post_init__(self):
        # NOTE: a dataclass does not check types. DQNConfig(double_dqn="False") would turn double
        # DQN *on* ("False" is a non-empty string, so it is true), and a gamma read from a text
        # file as "0.99" would fail deep inside training. So every field's type is checked too.
        check(self, isinstance(self.hidden_sizes, (tuple, list)) and 1 <= len(self.hidden_sizes) <= 100
              and all(is_int(h) and 1 <= h <= MAX_WIDTH for h in self.hidden_sizes), "hidden_sizes",
              f"a tuple of 1 to 100 integers in [1, {MAX_WIDTH:,}]")
        make_plain(self)  # first, so that conv_layers read from JSON as lists are checked as tuples
        check(self, isinstance(self.conv_layers, tuple) and len(self.conv_layers) <= 100
              and all(isinstance(layer, tuple) and len(layer) == 2 and all(is_int(n) for n in layer)
                      and 1 <= layer[0] <= MAX_WIDTH and 1 <= layer[1] <= MAX_KERNEL for layer in self.conv_layers),
              "conv_layers", f"a tuple of up to 100 (out_channels, kernel_size) pairs of integers, channels in "
              f"[1, {MAX_WIDTH:,}] and kernel sizes in [1, {MAX_KERNEL}]")
        check(self, is_real(self.gamma) and 0.0 <= self.gamma <= 1.0, "gamma", "a number in [0, 1]")
        check(self, is_real(self.lr) and 0 < self.lr <= 1, "lr", "a number in (0, 1]")
        check(self, self.lr_end is None or (is_real(self.lr_end) and 0 < self.lr_end <= self.lr), "lr_end",
              f"a number in (0, lr={self.lr}] or None")
        for name in ("n_step", "batch_size", "buffer_size", "train_freq", "gradient_steps", "target_update_interval",
                     "exploration_steps", "lr_decay_steps", "priority_beta_steps"):
            check(self, is_int(getattr(self, name)) and 1 <= getattr(self, name) <= MAX_COUNT, name,
                  "a positive integer up to 2**53")
        check(self, self.buffer_size <= MAX_BUFFER, "buffer_size", f"at most {MAX_BUFFER:,}")
        check(self, self.n_step <= MAX_N_STEP, "n_step", f"at most {MAX_N_STEP:,}")
        check(self, is_int(self.learning_starts) and 0 <= self.learning_starts <= MAX_COUNT, "learning_starts",
              "an integer ≥ 0 up to 2**53")
        check(self, self.batch_size <= self.buffer_size, "batch_size", f"at most buffer_size ({self.buffer_size})")
        check(self, is_real(self.tau) and 0.0 < self.tau <= 1.0, "tau", "a number in (0, 1]")
        check(self, isinstance(self.loss, str) and self.loss in ("huber", "mse"), "loss", "'huber' or 'mse'")
        check(self, is_real(self.huber_delta) and self.huber_delta > 0, "huber_delta", "a finite number > 0")
        check(self, self.max_grad_norm is None or (is_real(self.max_grad_norm) and self.max_grad_norm > 0),
              "max_grad_norm", "a finite number > 0, or None")
        self._check_distribution_and_noise()
        for name in ("double_dqn", "dueling", "prioritized_replay", "compact_observations"):
            check(self, isinstance(getattr(self, name), (bool, np.bool_)), name, "True or False")
        check(self, not (self.compact_observations and self.prioritized_replay), "compact_observations",
              "False with prioritized_replay (the compact layout is for uniform replay only)")
        check(self, isinstance(self.dueling_type, str) and self.dueling_type in ("avg", "max", "naive"),
              "dueling_type", "'avg', 'max' or 'naive'")
        schedules = ("constant", "linear", "exponential", "boltzmann")
        check(self, isinstance(self.exploration, str) and self.exploration in schedules, "exploration",
              "'constant', 'linear', 'exponential' or 'boltzmann'")
        check(self, is_real(self.temperature) and self.temperature > 0, "temperature", "a finite number > 0")
        for name in ("epsilon_start", "epsilon_end", "priority_alpha", "priority_beta_start"):
            value = getattr(self, name)
            check(self, is_real(value) and 0.0 <= value <= 1.0, name, "a number in [0, 1]")
        check(self, is_real(self.epsilon_decay) and 0.0 < self.epsilon_decay < 1.0, "epsilon_decay",
              "a number in (0, 1)")
        check(self, isinstance(self.dtype, str) and self.dtype in ("float32", "float64"), "dtype",
              "'float32' or 'float64'")
        make_plain(self)  # NumPy scalars become Python values: a checkpoint stores the config as JSON

    def _check_distribution_and_noise(self) -> None:
        check(self, self.distribution in (None, "categorical", "quantile"), "distribution",
              "None, 'categorical' or 'quantile'")
        check(self, is_int(self.num_atoms) and 2 <= self.num_atoms <= 1_000, "num_atoms", "an integer in [2, 1,000]")
        check(self, is_real(self.v_min), "v_min", "a finite number")
        check(self, is_real(self.v_max) and self.v_max > self.v_min, "v_max", f"a finite number above v_min ({self.v_min})")
        check(self, isinstance(self.noisy, (bool, np.bool_)), "noisy", "True or False")
        check(self, is_real(self.noisy_sigma0) and self.noisy_sigma0 > 0, "noisy_sigma0", "a finite number > 0")
        check(self, not (self.noisy and self.exploration == "boltzmann"), "exploration",
              "an ε schedule with noisy=True (the noisy layers explore; Boltzmann sampling would explore twice)")

    def check_network(self, obs_shape: int | tuple[int, ...], n_actions: int) -> None:
        """ValueError unless the network fits observations of `obs_shape` ((D,), or (H, W, C) with
        conv_layers) and stays within MAX_PARAMETERS (counted with Python ints, before anything is
        allocated)."""
        obs_shape = (obs_shape,) if is_int(obs_shape) else tuple(obs_shape)
        if self.conv_layers and len(obs_shape) != 3:
            raise ValueError(f"conv_layers need image observations of shape (H, W, C), got shape {obs_shape}")
        if not self.conv_layers and len(obs_shape) != 1:
            raise ValueError(f"observations of shape {obs_shape} need conv_layers (or flattening to (D,) for an MLP)")
        count, features = 0, obs_shape[0]
        if self.conv_layers:
            H, W, C = obs_shape
            for C_out, k in self.conv_layers:
                if k > min(H, W):
                    raise ValueError(f"conv_layers: a {k}×{k} filter does not fit the {H}×{W} maps it would slide over "
                                     f"(observations of shape {obs_shape})")
                count += (k * k * C + 1) * C_out  # the filters and their biases
                H, W, C = H - k + 1, W - k + 1, C_out
            features = H * W * C
        atoms = 1 if self.distribution is None else self.num_atoms
        sizes = [features, *self.hidden_sizes, (n_actions + self.dueling) * atoms]  # + the dueling head's V(s)
        count += sum((n_in + 1) * n_out for n_in, n_out in pairwise(sizes)) * (2 if self.noisy else 1)  # W and b (μ, σ)
        if count > MAX_PARAMETERS:
            raise ValueError(f"a network of sizes {sizes} would have {count:,} parameters, more than {MAX_PARAMETERS:,}")


@dataclass(frozen=True)
class QLearningConfig:
    """Hyperparameters of tabular Q-learning; both schedules are straight lines over episodes."""

    gamma: float = 0.99  # γ, discount factor
    alpha_start: float = 0.1  # α at episode 0, the learning rate (step size)
    alpha_end: float = 0.01  # α after alpha_decay_episodes, then constant
    alpha_decay_episodes: int = 20_000  # episodes over which α falls linearly to alpha_end
    epsilon_start: float = 1.0  # ε at episode 0, the probability of a random action
    epsilon_end: float = 0.05  # ε after epsilon_decay_episodes, then constant
    epsilon_decay_episodes: int = 10_000  # episodes over which ε falls linearly to epsilon_end

    def __post_init__(self):
        check(self, is_real(self.gamma) and 0.0 <= self.gamma <= 1.0, "gamma", "in [0, 1]")
        for name in ("alpha_start", "alpha_end"):
            value = getattr(self, name)
            check(self, is_real(value) and 0.0 < value <= 1.0, name, "in (0, 1]")
        for name in ("epsilon_start", "epsilon_end"):
            value = getattr(self, name)
            check(self, is_real(value) and 0.0 <= value <= 1.0, name, "in [0, 1]")
        for name in ("alpha_decay_episodes", "epsilon_decay_episodes"):
            value = getattr(self, name)
            check(self, is_int(value) and 1 <= value <= MAX_COUNT, name, "a positive integer (episodes) up to 2**53")
        make_plain(self)  # NumPy scalars become Python ones, for the JSON of save()


def config_from_dict(config_class: type, saved: dict):
    """The config dataclass rebuilt from its saved fields; every field must be there, so a
    checkpoint never quietly picks up a default that has changed since it was written."""
    names = {f.name for f in fields(config_class)}
    got = set(saved) if isinstance(saved, dict) else set()
    if got != names:
        raise ValueError(f"the saved {config_class.__name__} lacks {sorted(names - got)}, "
                         f"has unknown fields {sorted(got - names)}")
    return config_class(**saved)
