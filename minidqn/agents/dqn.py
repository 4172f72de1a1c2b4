"""Deep Q-Network (Mnih et al., 2015): Q-learning with a neural network, experience replay and a target network.

The network is an MLP over flat observations or, with DQNConfig.conv_layers, a ConvNet over images
(minidqn.nn.conv); the agent treats both alike.

Run `python demos/cartpole.py` to watch it learn CartPole; docs/dqn.md maps each equation here
to its line, follows one transition through the code, and lists where this implementation departs
from the paper.
"""

from __future__ import annotations

import os

import numpy as np

from minidqn.agents.config import DQNConfig
from minidqn.agents.dqn_checkpoint import load_agent, save_agent
from minidqn.agents.exploration import boltzmann_probabilities
from minidqn.agents.policy import GreedyPolicy, q_network
from minidqn.agents.schedules import (
    ConstantSchedule,
    ExponentialSchedule,
    LinearSchedule,
)
from minidqn.agents.target_network import soft_update
from minidqn.agents.value_heads import value_head
from minidqn.common import checkpoint
from minidqn.common.validation import check_seed, is_real
from minidqn.memory.compact import CompactReplayBuffer
from minidqn.memory.nstep import NStepTransitions
from minidqn.memory.prioritized import PrioritizedReplayBuffer
from minidqn.memory.ring import Batch, RingReplayBuffer
from minidqn.nn.optim import Adam
from minidqn.training import env_api
from minidqn.training.evaluation import evaluate
from minidqn.training.history import History
from minidqn.training.run import TrainingRun


class DQNAgent:
    """A DQN agent for `Discrete` actions 0..A−1 and a `Box` observation of shape (D,), or an image
    (H, W, C) when the config has conv_layers. Images are stored and replayed flattened, as rows
    of D = H·W·C numbers; the network views them as images again (minidqn.nn.conv.ConvNet)."""

    FORMAT = 7  # the checkpoint format version this agent writes (dqn_formats.py reads older ones)

    def __init__(self, observation_space, action_space, config: DQNConfig | None = None, seed: int = 0):
        self.config = c = config if config is not None else DQNConfig()
        if not isinstance(c, DQNConfig):
            raise TypeError(f"config must be a DQNConfig, got {type(c).__name__}")
        self.obs_shape, self.n_actions = env_api.check_spaces(observation_space, action_space, images=bool(c.conv_layers))
        self.obs_dim = int(np.prod(self.obs_shape))  # D, the length of an observation's row in replay
        self.observation_space, self.action_space = observation_space, action_space
        self.dtype, self.seed = np.dtype(c.dtype), check_seed(seed)
        c.check_network(self.obs_shape, self.n_actions)
        # One seed, one tree of generators: network init, exploration, replay sampling, env resets.
        init_seq, *seqs = np.random.SeedSequence(seed).spawn(4)
        self.rng, self.replay_rng, self.env_rng = (np.random.default_rng(seq) for seq in seqs)  # see dqn_checkpoint.RNG_NAMES

        self.online = q_network(self.obs_shape, self.n_actions, c, seed=np.random.default_rng(init_seq))
        # NOTE: the target network is a copy with its own memory, never an alias of `online`.
        self.target = self.online.clone()
        # NOTE: all parameters are views of one vector θ, so Adam over [θ] is exactly Adam over
        # every W and b, applied elementwise, in one vector operation instead of one per array.
        self.optimizer = Adam([self.online.flat_params], lr=c.lr, max_grad_norm=c.max_grad_norm)
        if c.prioritized_replay:
            self.buffer = PrioritizedReplayBuffer(c.buffer_size, c.priority_alpha, dtype=self.dtype)
        elif c.compact_observations:  # observations as uint8: a quarter of the memory (memory/compact.py)
            self.buffer = CompactReplayBuffer(c.buffer_size, dtype=self.dtype)
        else:
            self.buffer = RingReplayBuffer(c.buffer_size, dtype=self.dtype)  # memory/ring.py
        self.n_step_transitions = NStepTransitions(c.n_step, c.gamma)  # folds steps before storing
        self.head = value_head(c)  # what the outputs mean: Q itself, or a distribution (value_heads.py)
        # Both schedules count env steps from the agent's first, over all train() calls.
        self.epsilon_schedule = {"constant": ConstantSchedule(c.epsilon_end),
                                 "linear": LinearSchedule(c.epsilon_start, c.epsilon_end, c.exploration_steps),
                                 "exponential": ExponentialSchedule(c.epsilon_start, c.epsilon_end, c.epsilon_decay),
                                 "boltzmann": ConstantSchedule(0.0)}[c.exploration]  # samples Q instead
        if c.noisy:  # the noisy layers explore: ε is 0
            self.epsilon_schedule = ConstantSchedule(0.0)
        self.lr_schedule = ConstantSchedule(c.lr) if c.lr_end is None else LinearSchedule(c.lr, c.lr_end, c.lr_decay_steps)
        self.beta_schedule = LinearSchedule(c.priority_beta_start, 1.0, c.priority_beta_steps)  # prioritized replay
        self.num_steps = 0  # env steps taken in training, over all train() calls
        self.num_updates = 0  # gradient steps taken
        self.num_episodes = 0  # training episodes finished

    # --- acting ----------------------------------------------------------------------------
    def epsilon(self, step: int | None = None) -> float:
        """ε of the exploration schedule at env step `step` (default: now)."""
        return self.epsilon_schedule(self.num_steps if step is None else step)

    def learning_rate(self, step: int | None = None) -> float:
        """Adam's step size at env step `step` (default: now): lr, or a line from lr to lr_end."""
        return self.lr_schedule(self.num_steps if step is None else step)

    def observe(self, obs, at: int | str = "in act()") -> np.ndarray:
        """obs as the network's input, a row (D,) in the agent's dtype (an image flattened); a
        ValueError (or TypeError) that says `at` which step the env returned it unless it has the
        agent's observation shape and is finite."""
        return env_api.observation(obs, self.obs_shape, self.dtype, at).reshape(self.obs_dim)

    def act(self, obs, epsilon: float = 0.0) -> int:
        """ε-greedy: a uniformly random action with probability ε, else argmaxₐ Q(obs, a)."""
        if not (is_real(epsilon) and 0.0 <= epsilon <= 1.0):
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.online.mean_weights()  # noisy layers act on their mean weights outside training
        return self._act(self.observe(obs), epsilon)

    def _act(self, obs: np.ndarray, epsilon: float) -> int:
        if epsilon > 0.0 and self.rng.random() < epsilon:
            return int(self.rng.integers(self.n_actions))
        return int(self.head.q_values(self.online(obs[None])).argmax())  # (1, D) -> (1, A) -> a

    def explore(self, obs: np.ndarray, epsilon: float) -> int:
        """The training policy: ε-greedy, or with exploration="boltzmann" a draw from
        P(a|s) ∝ exp(Q(s,a)/T) (minidqn.agents.exploration); with noisy layers, greedy on weights
        with fresh noise (ε is 0)."""
        if self.config.noisy:
            self.online.sample_noise(self.rng)  # new noise for every step the agent acts
        if self.config.exploration == "boltzmann":
            p = boltzmann_probabilities(self.head.q_values(self.online(obs[None]))[0], self.config.temperature)
            return int(self.rng.choice(self.n_actions, p=p))
        return self._act(obs, epsilon)

    def q_values(self, obs) -> np.ndarray:
        """Q(obs, ·) of the online network (noisy layers on their mean weights): (B, *obs_shape) ->
        (B, A), or one observation -> (A,)."""
        x, single = env_api.batch(obs, self.obs_shape, self.dtype)  # (B, D)
        self.online.mean_weights()
        q = self.head.q_values(self.online(x))  # (B, A)
        return q[0] if single else q

    def predict(self, observations) -> np.ndarray:
        """The greedy actions argmaxₐ Q(s, a), no exploration: (B, *obs_shape) -> (B,) integers, or
        one observation -> a 0-d array."""
        return self.q_values(observations).argmax(axis=-1)

    def policy(self) -> GreedyPolicy:
        """The greedy policy alone: a copy of the online network, to act with or to save small
        (`agent.policy().save(path)`, then `GreedyPolicy.load(path)`; minidqn.agents.policy)."""
        return GreedyPolicy(self.online.clone(), self.config)

    def evaluate(self, env, episodes: int = 10, seed: int = 0, max_steps: int = 100_000) -> np.ndarray:
        """Greedy (ε = 0) returns of `episodes` episodes: (episodes,); the env is reset with `seed`
        first. An episode still running after `max_steps` steps is cut there (minidqn.training.evaluation)."""
        env_api.check_env(env, self.obs_shape, self.n_actions, images=bool(self.config.conv_layers))
        self.online.mean_weights()  # greedy: noisy layers on their mean weights
        return evaluate(env, lambda obs: self._act(self.observe(obs, "in evaluation"), 0.0), episodes, seed, max_steps)

    # --- learning --------------------------------------------------------------------------
    def td_target(self, rewards: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray) -> np.ndarray:
        """y = r + γⁿ·(1 − terminated)·Q_target(s′, a′): (B,), with

            r the (n-step) return stored with the transition and s′ the state n steps later
            (n = config.n_step; with n = 1, the reward and the next state), and

            a′ = argmaxₐ Q_online(s′, a)   if double_dqn (the online net picks, the target judges)
            a′ = argmaxₐ Q_target(s′, a)   otherwise, so the term is maxₐ Q_target(s′, a).

        With a distribution the same a′ picks the target network's distribution for s′, which
        the head moves by r + d·z with d = γⁿ·(1 − terminated) (value_heads.py): (B, N). No
        gradient flows through the target: it is what the loss regresses on.
        """
        discounts = self.config.gamma**self.config.n_step * (1.0 - terminated)  # d: (B,), 0 after a termination
        next_outputs = self.target(next_obs)  # (B, A), or (B, A·N)
        judge = self.online(next_obs) if self.config.double_dqn else next_outputs
        next_actions = self.head.q_values(judge).argmax(axis=1)  # a′: (B,)
        return self.head.target(rewards, discounts, next_outputs, next_actions)

    def train(self, env, total_steps: int, callback=None, verbose: int = 1,
              checkpoint_path: str | os.PathLike | None = None, checkpoint_every: int | None = None) -> History:
        """Run the DQN loop for `total_steps` env steps; return the history of the episodes it finished.

        `callback(agent, episode)` runs at the end of each episode with its record (a
        minidqn.training.history.Episode: return, length, env steps, mean loss, ε, ...); returning False
        stops training. A list of callbacks runs each in turn.
        A second call continues the counters and the schedules, starting a fresh episode.
        verbose: 0 silent, 1 a progress line every few seconds, 2 a line per episode.
        With `checkpoint_path`, the agent is saved there at the first episode end at or after each
        multiple of `checkpoint_every` env steps (where a resumed run goes on exactly as this one
        would have), at the end, and on Ctrl-C (which ends the call early and returns the history
        so far). A NaN or infinite loss or parameter raises a DivergenceError; no checkpoint is
        ever written from such a state (minidqn.training.run).
        """
        run = TrainingRun(self, total_steps, callback, verbose, checkpoint_path, checkpoint_every)
        env_api.check_env(env, self.obs_shape, self.n_actions, images=bool(self.config.conv_layers))
        c = self.config
        obs = None  # no episode under way: every call starts a fresh one
        with run:
            for _ in range(total_steps):
                if obs is None:  # 0. Start an episode (its reset seeded by the agent: see start_episode).
                    obs = self.start_episode(env)
                # 1. Act: ε-greedily (or by Boltzmann sampling) in the current state.
                epsilon = self.epsilon()
                action = self.explore(obs, epsilon)
                # 2. Step the environment (env_api checks what it returns: finite, the right shape).
                next_obs, reward, terminated, truncated = env_api.step(env, action, at=self.num_steps + 1)
                next_obs = self.observe(next_obs, at=self.num_steps + 1)
                # 3. Store the transition (with n_step > 1: the n-step transitions it completes).
                # NOTE: store `terminated`, not `terminated or truncated`. A time limit (truncation)
                # stops the episode but not the task: the state after it still has value, so the TD
                # target must bootstrap from it. Only a true termination has no future.
                for transition in self.n_step_transitions.add(obs, action, reward, next_obs, terminated, truncated):
                    self.buffer.push(*transition)
                obs = next_obs  # NOTE: without this the agent would act forever from the first state
                self.num_steps += 1
                # 4. Learn from replayed mini-batches: TD target, loss, backward pass, Adam step.
                # (Once the buffer holds a batch: with n-step returns it fills n − 1 steps late.)
                learning = self.num_steps > c.learning_starts and len(self.buffer) >= c.batch_size
                if learning and self.num_steps % c.train_freq == 0:
                    for _ in range(c.gradient_steps):
                        batch = self.replay_batch()
                        if c.noisy:  # new noise in both networks for every batch
                            self.online.sample_noise(self.rng)
                            self.target.sample_noise(self.rng)
                        y = self.td_target(batch.rewards, batch.next_obs, batch.terminated)  # (B,) or (B, N): a constant
                        q = self.online.forward(batch.obs)  # (B, A), or (B, A·N) with a distribution
                        loss, grad_q, q_taken, errors = self.head.loss(q, batch.actions, y, batch.weights)  # Q(sᵢ, aᵢ), δ
                        self.online.backward(grad_q, input_grad=False)  # dL/dθ into online.flat_grads
                        self.optimizer.lr = self.learning_rate()
                        grad_norm = self.optimizer.step([self.online.flat_grads])
                        self.num_updates += 1
                        if c.prioritized_replay:  # pᵢ ← |δᵢ| + eps (a distribution: its loss)
                            self.buffer.update_priorities(batch.positions, errors)
                        # 5. Move the target network every C gradient steps.
                        if self.num_updates % c.target_update_interval == 0:
                            soft_update(self.target, self.online, c.tau)
                        run.log_loss(loss, grad_norm, q_taken)
                # 6. Log the step; an episode that ended is recorded (and maybe checkpointed) here.
                done = terminated or truncated
                if done:
                    self.num_episodes += 1
                    obs = None  # the next step starts a new episode
                if not run.log_step(reward, done, epsilon, self.optimizer.lr):
                    break
        return run.history

    def start_episode(self, env) -> np.ndarray:
        """Reset `env` for a new episode; its first observation.

        Every reset is seeded from the agent's env generator, so the episodes a run meets follow
        from the agent's state alone: a run resumed from a checkpoint written at an episode's end
        meets the very episodes the uninterrupted run met (docs/checkpoints.md)."""
        self.n_step_transitions.reset()  # nothing of an earlier episode is folded into this one
        seed = int(self.env_rng.integers(2**31))
        return self.observe(env_api.reset(env, seed=seed, at=self.num_steps or "at the first reset"), self.num_steps)

    def replay_batch(self) -> Batch:
        """B transitions from replay (minidqn.memory.ring.Batch); with prioritized replay drawn by
        priority, with importance weights at this step's β."""
        c = self.config
        if c.prioritized_replay:
            return self.buffer.sample(c.batch_size, self.replay_rng, beta=self.beta_schedule(self.num_steps))
        return self.buffer.sample(c.batch_size, self.replay_rng)

    def non_finite(self) -> str | None:
        """What in the agent's state is NaN or infinite, or None (the divergence guard's scan)."""
        arrays = (self.online.flat_params, self.target.flat_params, *self.optimizer.m, *self.optimizer.v)
        if not all(np.isfinite(a).all() for a in arrays):
            return "a network parameter or an Adam moment is NaN or infinite"
        return None

    def divergence_advice(self) -> str:
        """What to try when training diverges: first, did the env give numbers replay cannot hold?"""
        c, overflowed = self.config, checkpoint.non_finite(self.buffer.state()[1])
        if overflowed:
            return (f"The replay memory ({', '.join(overflowed)}) holds values beyond {c.dtype}'s range (±"
                    f"{np.finfo(c.dtype).max:.1e}): the env's rewards or observations overflow it; scale them "
                    "(gymnasium's TransformReward, TransformObservation) or use dtype='float64'.")
        return (f"Try a lower lr (now {c.lr:g}), gradient clipping with max_grad_norm (now {c.max_grad_norm}), "
                f"or the Huber loss, loss='huber' (now {c.loss!r}).")

    # --- checkpoints ---------------------------------------------------------------------------
    def parts(self) -> dict:
        """The parts that save their own state, by the name each is stored under (dqn_checkpoint.py)."""
        return {"online": self.online, "target": self.target, "optimizer": self.optimizer,
                "buffer": self.buffer, "n_step": self.n_step_transitions}

    def save(self, path: str | os.PathLike) -> None:
        """Write everything needed to continue training (networks, Adam, counters, replay buffer,
        the pending n-step window, generators) to one .npz at exactly `path`, atomically."""
        save_agent(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> DQNAgent:
        """The agent saved at `path`, ready to act or to train on exactly as if never stopped.
        Never unpickles; a file that is not such a checkpoint raises a CheckpointError saying why."""
        return load_agent(cls, path)
