"""Pictures of a DQN run, drawn with matplotlib: the learning curve and CartPole animated from its state.

Nothing in the core imports this module; demos do. CartPole is drawn from its 4-number state
(x, ẋ, θ, θ̇) rather than with gymnasium's pygame renderer, so no display or pygame is needed.
"""

from __future__ import annotations

import numpy as np


def moving_average(values, window: int) -> np.ndarray:
    """Mean of the last `window` values at each position (fewer at the start): (N,) -> (N,)."""
    values = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    cumulative = np.concatenate(([0.0], np.cumsum(values)))  # (N + 1,): sums of the first k values
    end = np.arange(1, len(values) + 1)  # (N,)
    begin = np.maximum(0, end - window)  # (N,)
    return (cumulative[end] - cumulative[begin]) / (end - begin)


def plot_learning_curve(history, path, evaluations=None, solved_at: float | None = None, title: str = ""):
    """Save a PNG of episode return against env steps: each episode faint, a 20-episode moving
    average bold, greedy evaluations (list of (step, mean return)) as dots, and the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    steps = np.asarray(history.env_steps)
    ax.plot(steps, history.episode_return, color="tab:blue", alpha=0.25, lw=1, label="training episode (ε-greedy)")
    ax.plot(steps, moving_average(history.episode_return, 20), color="tab:blue", lw=2,
            label="moving average, 20 episodes")
    if evaluations:
        eval_steps, eval_means = zip(*evaluations)
        ax.plot(eval_steps, eval_means, "o-", color="tab:orange", ms=4, label="greedy evaluation (mean)")
    if solved_at is not None:
        ax.axhline(solved_at, color="tab:green", ls="--", lw=1, label=f"solved ({solved_at:g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def record_cartpole(agent, env, seed: int = 0, max_steps: int | None = None):
    """Play one greedy episode; return its CartPole states (T, 4) and its return."""
    obs, _ = env.reset(seed=seed)
    states, total, done = [np.array(env.unwrapped.state, dtype=float)], 0.0, False
    while not done and (max_steps is None or len(states) <= max_steps):
        obs, reward, terminated, truncated, _ = env.step(agent.act(obs))
        states.append(np.array(env.unwrapped.state, dtype=float))
        total += reward
        done = terminated or truncated
    return np.array(states), total


def animate_cartpole(states: np.ndarray, path, fps: int = 25, every: int = 2, title: str = "") -> None:
    """Save a GIF of CartPole from states (T, 4) = (x, ẋ, θ, θ̇), one frame every `every` steps.

    The track spans x ∈ [−2.4, 2.4] (beyond it the episode terminates); the pole is 1.0 long
    (gymnasium's half-length 0.5 doubled) and θ is its angle from upright, positive to the right.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig, ax = plt.subplots(figsize=(4.8, 2.4), dpi=100)
    ax.set_xlim(-2.6, 2.6)
    ax.set_ylim(-0.3, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.plot([-2.4, 2.4], [0, 0], color="black", lw=1)
    for edge in (-2.4, 2.4):
        ax.plot([edge, edge], [-0.1, 0.1], color="tab:red", lw=2)
    cart = plt.Rectangle((0, 0), 0.5, 0.25, color="tab:gray")
    ax.add_patch(cart)
    (pole,) = ax.plot([], [], color="tab:brown", lw=5, solid_capstyle="round")
    label = ax.text(-2.55, 1.2, "", fontsize=8, va="top")
    ax.set_title(title, fontsize=9)
    frames = range(0, len(states), every)

    def draw(t):
        x, _, theta, _ = states[t]
        cart.set_xy((x - 0.25, 0.0))
        pivot = (x, 0.25)
        pole.set_data([pivot[0], pivot[0] + np.sin(theta)], [pivot[1], pivot[1] + np.cos(theta)])
        label.set_text(f"step {t}")
        return cart, pole, label

    FuncAnimation(fig, draw, frames=frames, blit=True).save(path, writer=PillowWriter(fps=fps))
    plt.close(fig)
