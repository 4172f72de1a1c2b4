"""Pictures of DQN's ideas, drawn with matplotlib from real objects: the agent-environment loop,
the Q-network, the replay memory, the target network's lag and the moving TD target.

Each function draws on a matplotlib Axes and returns it, so a notebook cell or a script
(demos/pictures.py, which writes the pictures in docs/) can place several in one figure. The
replay picture reads a real buffer; the last two read a `minidqn.pictures.probe.Probe` of a real run.
Like minidqn.pictures.plotting, this module sits on top of the package and nothing in the core imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from minidqn.pictures.probe import Probe

AGENT_COLOR, ENV_COLOR, BATCH_COLOR = "#1565c0", "#2e7d32", "#c62828"


def _box(ax: Axes, x: float, y: float, w: float, h: float, title: str, body: str, color: str) -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.05", facecolor=color,
                                alpha=0.12, edgecolor=color, linewidth=2))
    ax.text(x + w / 2, y + h * 0.78, title, ha="center", va="center", fontsize=13, weight="bold", color=color)
    ax.text(x + w / 2, y + h * 0.36, body, ha="center", va="center", fontsize=9.5)


def _arrow(ax: Axes, start, end, label: str, side: str, bend: float) -> None:
    ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={bend}", arrowstyle="-|>",
                                 mutation_scale=18, linewidth=1.8, color="#424242"))
    x = max(start[0], end[0]) + 0.2 if side == "right" else min(start[0], end[0]) - 0.2
    ax.text(x, (start[1] + end[1]) / 2, label, ha="left" if side == "right" else "right", va="center", fontsize=10)


def draw_loop(ax: Axes) -> Axes:
    """The agent-environment loop: the agent sees sₜ and picks aₜ; the environment answers with
    rₜ₊₁, sₜ₊₁ and whether the episode ended (terminated: the task is over; truncated: a time limit)."""
    _box(ax, 0.1, 0.66, 0.8, 0.26, "agent", "picks aₜ = argmaxₐ Q(sₜ, a; θ),\nor a random action with probability ε;\n"
         "learns θ from stored transitions", AGENT_COLOR)
    _box(ax, 0.1, 0.06, 0.8, 0.26, "environment", "moves to sₜ₊₁ ~ P(· | sₜ, aₜ) and pays rₜ₊₁\n"
         "(CartPole: 4 numbers, 2 actions, +1 per step)", ENV_COLOR)
    _arrow(ax, (0.91, 0.74), (0.91, 0.24), "action aₜ", "right", -0.5)
    _arrow(ax, (0.09, 0.24), (0.09, 0.74), "state sₜ₊₁, reward rₜ₊₁,\nterminated, truncated", "left", -0.5)
    ax.set(xlim=(-0.6, 1.6), ylim=(0, 1))
    ax.axis("off")
    return ax


def draw_q_network(ax: Axes, sizes: Sequence[int] = (4, 64, 64), action_names: Sequence[str] = ("left", "right"),
                   input_names: Sequence[str] = ("x", "ẋ", "θ", "θ̇"), dueling: bool = True, shown: int = 7) -> Axes:
    """The Q-network: the state's numbers in, hidden ReLU layers (each drawn with at most `shown`
    units, its width written under it), and one Q-value per action out; with `dueling`, the last
    layer splits into a value V(s) and advantages A(s, a), joined as Q = V + A − mean(A)."""
    columns = [list(input_names)] + [[""] * min(width, shown) for width in sizes[1:]]
    titles = ["state s"] + [f"hidden {i}\n{width} ReLU units" for i, width in enumerate(sizes[1:], 1)]
    if dueling:
        columns.append(["V(s)"] + [f"A(s, {name})" for name in action_names])
        titles.append("dueling split")
    columns.append([f"Q(s, {name})" for name in action_names])
    titles.append("one Q per action")
    positions = []
    for i, column in enumerate(columns):
        ys = np.linspace(0.85, 0.15, len(column)) if len(column) > 1 else np.array([0.5])
        positions.append([(i, y) for y in ys])
    for i in range(len(columns) - 1):  # every unit feeds every unit of the next layer
        for x0, y0 in positions[i]:
            for x1, y1 in positions[i + 1]:
                ax.plot([x0, x1], [y0, y1], color="#9e9e9e", linewidth=0.4, zorder=1)
    for i, (column, title) in enumerate(zip(columns, titles)):
        color = ENV_COLOR if i == 0 else AGENT_COLOR if i < len(columns) - 1 else BATCH_COLOR
        for (x, y), name in zip(positions[i], column):
            ax.scatter([x], [y], s=260, color="white", edgecolor=color, linewidth=2, zorder=2)
            if name:
                ax.text(x + (-0.14 if i == 0 else 0.14), y, name, ha="right" if i == 0 else "left", va="center",
                        fontsize=9)
        if 0 < i < len(sizes) and sizes[i] > shown:
            ax.text(i, 0.07, "⋮", ha="center", fontsize=12)
        if dueling and i == len(columns) - 2:
            ax.text(i + 0.5, 0.02, "Q = V + A − mean(A)", ha="center", fontsize=9)
        ax.text(i, 0.97, title, ha="center", va="bottom", fontsize=9)
    ax.set(xlim=(-0.8, len(columns) + 0.4), ylim=(0, 1.1))
    ax.axis("off")
    return ax


def episode_starts(buffer) -> np.ndarray:
    """Booleans (n,): True where a stored transition begins an episode, i.e. where its s is not
    the s′ of the transition stored before it (the first stored one counts as a start). For
    one-step transitions: with n-step returns, s′ is n steps on and every transition looks new."""
    stored = [buffer.transition(i) for i in range(len(buffer))]
    return np.array([i == 0 or not np.array_equal(now.obs, stored[i - 1].next_obs) for i, now in enumerate(stored)])


def draw_replay(ax: Axes, buffer, batch: Sequence[int]) -> Axes:
    """The replay memory as a stream: one cell per stored transition, oldest on the left, shaded
    by episode; the transitions of a sampled batch (indices, 0 the oldest) marked in red."""
    n = len(buffer)
    episode = np.cumsum(episode_starts(buffer))
    for i in range(n):
        shade = "#90caf9" if episode[i] % 2 else "#e3f2fd"
        ax.add_patch(Rectangle((i, 0), 1, 1, facecolor=shade, edgecolor="none"))
    for i in batch:
        ax.add_patch(Rectangle((i, 0), 1, 1, facecolor=BATCH_COLOR, edgecolor="none"))
    ax.add_patch(Rectangle((0, 0), n, 1, fill=False, edgecolor="#424242", linewidth=1))
    ax.annotate("oldest: overwritten next", (0, 1.05), xytext=(0, 1.7), fontsize=9,
                arrowprops={"arrowstyle": "-|>", "color": "#424242"})
    ax.annotate("newest (sₜ, aₜ, rₜ₊₁, sₜ₊₁, terminated)", (n, 1.05), xytext=(n, 1.7), ha="right", fontsize=9,
                arrowprops={"arrowstyle": "-|>", "color": "#424242"})
    ax.text(n / 2, -0.55, f"{n} transitions in {episode[-1]} episodes (alternating shades); "
            f"in red, a batch of {len(batch)} drawn uniformly from all of them", ha="center", fontsize=9)
    ax.set(xlim=(-1, n + 1), ylim=(-1, 2.2))
    ax.axis("off")
    return ax


def draw_target_lag(ax: Axes, runs: Mapping[str, Probe], action: int = 0) -> Axes:
    """Q(s₀, a) of the online network (solid) and of the target network (dashed) over a run,
    for each probed run in `runs` (label → Probe)."""
    for (label, probe), color in zip(runs.items(), (AGENT_COLOR, ENV_COLOR, BATCH_COLOR, "#6a1b9a")):
        ax.plot(probe.steps, probe.online_q[:, action], color=color, linewidth=1.2, label=f"{label}: online θ")
        ax.plot(probe.steps, probe.target_q[:, action], color=color, linewidth=1.8, linestyle="--",
                label=f"{label}: target θ⁻")
    ax.set(xlabel="env steps", ylabel=f"Q(s₀, action {action})")
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def draw_td_targets(ax: Axes, probe: Probe, title: str) -> Axes:
    """The TD targets yᵢ of one fixed batch over a run: each transition's target a thin line,
    their mean a thick one. In supervised learning these would be constants."""
    steps, targets = probe.steps, probe.td_targets  # (T,), (T, B): NaN rows before the batch was drawn
    drawn = ~np.isnan(targets).any(axis=1)
    ax.plot(steps[drawn], targets[drawn], color="#9e9e9e", linewidth=0.6)
    ax.plot(steps[drawn], targets[drawn].mean(axis=1), color=BATCH_COLOR, linewidth=2, label="mean over the batch")
    ax.set(xlabel="env steps", ylabel="TD target y = r + γⁿ·max Q(s′, ·; θ⁻)", title=title)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return ax
