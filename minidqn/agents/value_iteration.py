"""Value iteration on a toy-text environment's model, and a fixed policy's exact expected return.

Toy-text environments (FrozenLake, Taxi, CliffWalking) expose their dynamics as
`env.unwrapped.P[s][a]`, a list of (probability, next_state, reward, terminated) tuples. From that
model, value iteration (Bellman, 1957; Sutton & Barto, 2018, §4.4) computes the optimal values
exactly, which makes it the ground truth for tabular Q-learning. S is the number of states and A
the number of actions.

    >>> import gymnasium as gym
    >>> env = gym.make("FrozenLake-v1", is_slippery=False)
    >>> V, Q, policy = value_iteration(env, gamma=0.9)
    >>> round(float(V[0]), 4)  # 6 steps to the goal: γ⁵·1
    0.5905
    >>> float(evaluate_policy_exactly(env, policy)[0])  # the goal, surely, within the time limit
    1.0
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np


def tabular_model(env: gym.Env) -> tuple[np.ndarray, np.ndarray]:
    """Turn `env.unwrapped.P` into arrays: the expected reward R: (S, A) and the continuing
    transition probabilities P_cont: (S, A, S), where P_cont[s, a, s′] = Pr(s′ | s, a) summed over
    the outcomes that do not terminate the episode (a terminal outcome has no next value).
    ValueError for an env without such a model (CartPole, or any env not written with one)."""
    model = getattr(env.unwrapped, "P", None)
    if not (isinstance(model, dict) and model and isinstance(env.observation_space, gym.spaces.Discrete)
            and len(model) == env.observation_space.n):
        raise ValueError(f"{env.unwrapped} has no model env.unwrapped.P[s][a] = [(probability, next_state, "
                         "reward, terminated), ...] for its Discrete states: value iteration needs one "
                         "(the toy-text envs FrozenLake, Taxi and CliffWalking have it)")
    n_states, n_actions = len(model), len(model[0])
    R = np.zeros((n_states, n_actions))  # (S, A)
    P_cont = np.zeros((n_states, n_actions, n_states))  # (S, A, S)
    for s in range(n_states):
        for a in range(n_actions):
            for prob, next_state, reward, terminated in model[s][a]:
                R[s, a] += prob * reward
                # NOTE: a terminating outcome contributes its reward but no γ·V(s′): the episode ends.
                # The same next state can be listed twice (FrozenLake), hence +=.
                if not terminated:
                    P_cont[s, a, next_state] += prob
    return R, P_cont


def value_iteration(
    env: gym.Env, gamma: float = 0.99, tol: float = 1e-10, max_iterations: int = 100_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Iterate Q(s,a) ← R(s,a) + γ·Σ_s′ P_cont(s,a,s′)·maxₐ′ Q(s′,a′) until V = maxₐ Q changes by
    less than `tol` everywhere; return V*: (S,), Q*: (S, A) and the greedy policy π*: (S,) ints.

    The values are those of the infinite-horizon discounted problem: they ignore the environment's
    time limit (a truncated episode would still have had a future). Where two actions tie, π*
    takes the first (np.argmax), which is as optimal as any other.
    """
    if not 0.0 <= gamma < 1.0:
        raise ValueError(f"gamma must be in [0, 1), got {gamma}")
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got {tol}")
    R, P_cont = tabular_model(env)  # (S, A), (S, A, S)
    V = np.zeros(R.shape[0])  # (S,)
    for _ in range(max_iterations):
        Q = R + gamma * (P_cont @ V)  # (S, A, S)·(S,) → (S, A)
        V_new = Q.max(axis=1)  # (S,)
        if np.max(np.abs(V_new - V)) < tol:
            V = V_new
            break
        V = V_new
    else:
        raise RuntimeError(f"value iteration did not converge to tol={tol} in {max_iterations} sweeps")
    Q = R + gamma * (P_cont @ V)  # (S, A), consistent with the returned V
    return V, Q, Q.argmax(axis=1)


def evaluate_policy_exactly(env: gym.Env, policy: np.ndarray, horizon: int | None = None) -> np.ndarray:
    """The expected undiscounted return of the fixed policy π from every start state within
    `horizon` steps, computed from the model: V_H: (S,). No simulation, so no sampling noise.

        V_0(s) = 0,   V_h(s) = R(s, π(s)) + Σ_s′ P_cont(s, π(s), s′)·V_{h−1}(s′)

    V_h(s) is what is still to come with h steps left, so V_H is the mean that minidqn.training.evaluation.evaluate
    measures (minidqn.training.evaluation.evaluate) when H is the time limit: the default is the env's own (`env.spec.max_episode_steps`,
    100 on FrozenLake-v1). On FrozenLake, V_H(s) is the probability of reaching the goal from s.

        >>> env = gym.make("FrozenLake-v1", is_slippery=False)
        >>> _, _, policy = value_iteration(env, gamma=0.9)
        >>> float(evaluate_policy_exactly(env, policy)[0]), float(evaluate_policy_exactly(env, policy, 5)[0])
        (1.0, 0.0)
    """
    if horizon is None:
        horizon = env.spec.max_episode_steps if env.spec is not None else None
        if horizon is None:
            raise ValueError("the env has no time limit: pass horizon, the number of steps")
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0, got {horizon}")
    R, P_cont = tabular_model(env)  # (S, A), (S, A, S)
    s = np.arange(R.shape[0])  # (S,)
    policy = np.asarray(policy)  # (S,)
    R_pi, P_pi = R[s, policy], P_cont[s, policy]  # (S,), (S, S): the model under π
    V = np.zeros(R.shape[0])  # (S,) with 0 steps left
    for _ in range(horizon):
        V = R_pi + P_pi @ V  # (S,): one more step left
    return V
