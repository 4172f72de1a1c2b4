"""Pictures of training runs, drawn with matplotlib: learning curves, Q-tables, CartPole animated.

This module sits on top of the package: it imports matplotlib, and nothing in the core imports it.
Episodes are played by minidqn.training.evaluation.
CartPole is drawn from its 4-number state (x, ẋ, θ, θ̇) rather than with gymnasium's pygame
renderer, so no display or pygame is needed.
A grid map `desc` is the environment's `env.unwrapped.desc`, rows of single characters: S start,
F frozen, H hole, G goal. States are numbered row by row, s = row·n_cols + col, and the actions
are FrozenLake's: 0 left, 1 down, 2 right, 3 up.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.ticker import StrMethodFormatter

from minidqn.training.evaluation import play_episode

# (dx, dy) of each action on the picture, whose y axis points down like the map's rows.
ACTION_ARROWS = {0: (-1.0, 0.0), 1: (0.0, 1.0), 2: (1.0, 0.0), 3: (0.0, -1.0)}  # left down right up
TERMINAL_COLORS = {"H": "#263238", "G": "#f9a825"}  # hole: near black, goal: gold


def draw_q_table(
    ax: Axes,
    q: np.ndarray,
    desc: np.ndarray,
    policy: np.ndarray | None = None,
    wrong: np.ndarray | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "viridis",
) -> PolyCollection:
    """Draw q: (S, 4) over the map: each cell cut into four triangles, each coloured by Q(s,a) of
    the action pointing its way; a white arrow for policy[s] (default: argmaxₐ Q(s,a)), red where
    `wrong[s]` is True; holes and the goal filled and lettered. Returns the triangles, for a
    colorbar."""
    desc = np.asarray(desc).astype("U1")  # (rows, cols) of 'S', 'F', 'H', 'G'
    n_rows, n_cols = desc.shape
    if q.shape != (n_rows * n_cols, 4):
        raise ValueError(f"q must be (S, 4) = ({n_rows * n_cols}, 4) for this map, got {q.shape}")
    policy = q.argmax(axis=1) if policy is None else np.asarray(policy)  # (S,)
    triangles, values = [], []
    for s in range(n_rows * n_cols):
        row, col = divmod(s, n_cols)
        if desc[row, col] in TERMINAL_COLORS:
            continue
        center = (col + 0.5, row + 0.5)
        top_left, top_right = (col, row), (col + 1, row)
        bottom_left, bottom_right = (col, row + 1), (col + 1, row + 1)
        sides = {0: (top_left, bottom_left), 1: (bottom_left, bottom_right),
                 2: (bottom_right, top_right), 3: (top_right, top_left)}
        for a, (p1, p2) in sides.items():
            triangles.append([center, p1, p2])
            values.append(q[s, a])
    cells = PolyCollection(triangles, array=np.array(values), cmap=cmap, edgecolors="white",
                           linewidths=0.4)
    cells.set_clim(vmin, vmax)
    ax.add_collection(cells)
    for s in range(n_rows * n_cols):
        _draw_cell(ax, s, desc, q, int(policy[s]), wrong is not None and wrong[s])
    ax.set_xlim(0, n_cols)
    ax.set_ylim(n_rows, 0)  # row 0 at the top, as the map is printed
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return cells


def _draw_cell(ax: Axes, s: int, desc: np.ndarray, q: np.ndarray, action: int, wrong: bool) -> None:
    """A hole or the goal filled and lettered; any other cell gets the arrow of `action` (red if
    `wrong`) and its best Q-value, and the start its letter."""
    row, col = divmod(s, desc.shape[1])
    letter = desc[row, col]
    if letter in TERMINAL_COLORS:
        ax.add_patch(plt.Rectangle((col, row), 1, 1, color=TERMINAL_COLORS[letter]))
        ax.text(col + 0.5, row + 0.5, letter, ha="center", va="center", fontsize=16,
                fontweight="bold", color="white" if letter == "H" else "black")
        return
    dx, dy = ACTION_ARROWS[action]
    ax.annotate("", xy=(col + 0.5 + 0.3 * dx, row + 0.5 + 0.3 * dy),
                xytext=(col + 0.5 - 0.15 * dx, row + 0.5 - 0.15 * dy),
                arrowprops={"arrowstyle": "-|>", "color": "red" if wrong else "white", "lw": 2.5,
                            "mutation_scale": 16})
    ax.text(col + 0.06, row + 0.06, f"{q[s].max():.2f}", ha="left", va="top", fontsize=7, color="white")
    if letter == "S":
        ax.text(col + 0.94, row + 0.94, "S", ha="right", va="bottom", fontsize=9, fontweight="bold",
                color="white")


def draw_returns(
    ax: Axes, env_steps: np.ndarray, returns: np.ndarray, window: int, label: str = ""
) -> None:
    """Plot the mean return of the last `window` episodes against env steps: one line."""
    running = moving_average(returns, window)  # (episodes,)
    ax.plot(env_steps, running, label=label or f"mean of last {window}")
    ax.set_xlabel("env steps")
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel("episode return")


def moving_average(values, window: int) -> np.ndarray:
    """Mean of the last `window` values at each position (fewer at the start): (N,) -> (N,)."""
    values = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    cumulative = np.concatenate(([0.0], np.cumsum(values)))  # (N + 1,): sums of the first k values
    end = np.arange(1, len(values) + 1)  # (N,)
    begin = np.maximum(0, end - window)  # (N,)
    return (cumulative[end] - cumulative[begin]) / (end - begin)


def plot_learning_curve(history, path, evaluations=None, solved_at: float | None = None, title: str = "",
                        values=None):
    """Save a PNG of episode return against env steps: each episode faint, a 20-episode moving
    average bold, greedy evaluations (list of (step, mean return)) as dots, and the threshold.
    With `values`, a list of (step, mean predicted value of s₀, mean discounted return from s₀),
    a second panel sets the agent's belief beside what it obtained."""
    if values:
        fig, (ax, value_ax) = plt.subplots(2, 1, figsize=(7, 6.5), dpi=110, sharex=True,
                                           gridspec_kw={"height_ratios": [3, 2]})
        steps, predicted, obtained = zip(*values)
        value_ax.plot(steps, predicted, "o-", ms=3, color="tab:red", label="predicted: maxₐ Q(s₀, a)")
        value_ax.plot(steps, obtained, "o-", ms=3, color="tab:gray", label="obtained: Σ γᵗ rₜ from s₀ (greedy)")
        value_ax.set_ylabel("value of the first state")
        value_ax.set_xlabel("environment steps")
        value_ax.grid(alpha=0.3)
        value_ax.legend(loc="upper left", fontsize=8)
    else:
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
    ax.set_xlabel("" if values else "environment steps")
    ax.set_ylabel("episode return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def record_cartpole(agent, env, seed: int = 0, max_steps: int | None = None):
    """Play one greedy episode; return its CartPole states (T, 4) and its return."""
    states = []
    total, _, _ = play_episode(env, agent.act, seed, max_steps,
                            record=lambda env: states.append(np.array(env.unwrapped.state, dtype=float)))
    return np.array(states), total


def animate_cartpole(states: np.ndarray, path, fps: int = 25, every: int = 2, title: str = "") -> None:
    """Save a GIF of CartPole from states (T, 4) = (x, ẋ, θ, θ̇), one frame every `every` steps.

    The track spans x ∈ [−2.4, 2.4] (beyond it the episode terminates); the pole is 1.0 long
    (gymnasium's half-length 0.5 doubled) and θ is its angle from upright, positive to the right.
    """
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


def animate_frames(frames: list[np.ndarray], path, fps: int = 30, every: int = 2, title: str = "") -> None:
    """Save a GIF of RGB frames (each (H, W, 3), as env.render() gives them with
    render_mode="rgb_array"), one frame every `every` steps."""
    height, width = frames[0].shape[:2]
    fig = plt.figure(figsize=(width / 100, height / 100 + 0.3), dpi=100)
    ax = fig.add_axes((0, 0, 1, height / (height + 30)))
    ax.axis("off")
    image = ax.imshow(frames[0])
    fig.suptitle(title, fontsize=9, y=0.99)
    label = ax.text(0.01, 0.98, "", transform=ax.transAxes, fontsize=8, va="top", color="black")

    def draw(t):
        image.set_data(frames[t])
        label.set_text(f"step {t}")
        return image, label

    FuncAnimation(fig, draw, frames=range(0, len(frames), every), blit=True).save(path, writer=PillowWriter(fps=fps))
    plt.close(fig)


def draw_band(
    ax: Axes, x: np.ndarray, curves: np.ndarray, label: str, color: str | None = None, center: str = "mean"
) -> None:
    """Plot curves: (N, T), one row per run (seed) measured at the same points x: (T,), as their
    mean or median (`center`; a line with dots, labelled "`label`, mean of N") over an
    unlabelled shaded band from the lowest to the highest run at each point."""
    curves = np.atleast_2d(np.asarray(curves, dtype=float))  # (N, T)
    if curves.shape[1] != len(x):
        raise ValueError(f"curves must be (runs, {len(x)}) for {len(x)} points, got {curves.shape}")
    if center not in ("mean", "median"):
        raise ValueError(f"center must be 'mean' or 'median', got {center!r}")
    middle = curves.mean(axis=0) if center == "mean" else np.median(curves, axis=0)
    (line,) = ax.plot(x, middle, "o-", ms=2.5, lw=1.8, color=color, label=f"{label}, {center} of {len(curves)}")
    if len(curves) > 1:
        ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color=line.get_color(),
                        alpha=0.2, lw=0)
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def grid_frame(state: np.ndarray, cell: int = 32) -> np.ndarray:
    """An RGB picture (H·cell, W·cell, 3) of a MinAtar grid state (H, W, C) of booleans: each
    channel (paddle, ball, trail, brick, ...) its own colour from matplotlib's "cubehelix" map,
    empty cells black, as MinAtar's own display colours them; the last channel drawn wins."""
    state = np.asarray(state, dtype=bool)
    C = state.shape[-1]
    palette = np.vstack([np.zeros(3), plt.get_cmap("cubehelix")(np.linspace(0.3, 0.9, C))[:, :3]])  # (1 + C, 3)
    index = np.where(state.any(axis=-1), C - np.argmax(state[..., ::-1], axis=-1), 0)  # (H, W): 0 empty, c + 1
    image = palette[index]  # (H, W, 3)
    return np.repeat(np.repeat(image, cell, axis=0), cell, axis=1)


def draw_filters(filters: np.ndarray, path, channel_names: list[str] | None = None, title: str = "") -> None:
    """Save a picture of a Conv2D layer's filters W: (k, k, C_in, C_out), one column per output
    channel and one row per input channel, on one colour scale centred at 0 (red +, blue −)."""
    k, _, C_in, C_out = filters.shape
    fig, axes = plt.subplots(C_in, C_out, figsize=(0.6 * C_out + 1.2, 0.6 * C_in + 0.6), squeeze=False)
    scale = float(np.abs(filters).max()) or 1.0
    for i in range(C_in):
        for o in range(C_out):
            ax = axes[i, o]
            ax.imshow(filters[:, :, i, o], cmap="RdBu_r", vmin=-scale, vmax=scale)
            ax.set_xticks([])
            ax.set_yticks([])
            if o == 0:
                ax.set_ylabel(channel_names[i] if channel_names else f"in {i}", fontsize=7, rotation=0, ha="right")
            if i == 0:
                ax.set_title(f"{o}", fontsize=7)
    fig.suptitle(title or f"{C_out} filters of {k}×{k} (columns), by input channel (rows)", fontsize=9)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
