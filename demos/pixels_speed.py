"""Frames per second of DQN learning a MinAtar game: minidqn beside the same DQN step in PyTorch.

Both sides run MinAtar's reference setting (minidqn.cli.presets.MINATAR): 16 3×3 filters, a hidden
layer of 128, batch 32 and one gradient step per frame, a hard target copy every 1,000 updates.
Each first acts for --warmup frames without learning (the replay warm-up), then the clock runs
for --frames learning frames: act ε-greedily, step the env, store, sample 32 transitions, one
gradient step. The two alternate, --rounds times, so both see the same machine; both run on one
core (OpenBLAS and PyTorch each limited to one thread).

The PyTorch side is written here as the usual PyTorch DQN of that network, with MinAtar's
reference optimizer (centred RMSprop, lr 2.5e-4, α 0.95, eps 0.01) and the Huber (smooth L1)
loss; its replay memory is the same uint8 NumPy ring as minidqn's, so the comparison is of the
learning step. It runs only if torch is installed; minidqn never depends on it.

    pip install -e ".[minatar]"          # and `pip install torch` for the comparison
    python demos/pixels_speed.py        # Breakout, 10,000 learning frames, 3 rounds
    python demos/pixels_speed.py --game space_invaders --frames 5000 --rounds 1

Results: docs/pixels.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import numpy as np

from minidqn import DQNAgent
from minidqn.agents.schedules import LinearSchedule
from minidqn.cli.presets import MINATAR
from minidqn.cli.presets import MINATAR_GAME_NAMES as GAMES
from minidqn.cli.run_reading import make_env
from minidqn.memory.compact import CompactReplayBuffer


def time_minidqn(env_id: str, warmup: int, frames: int, seed: int) -> tuple[float, float]:
    """Seconds of the whole run (the agent built, `warmup` frames of acting, then `frames` learning
    frames of minidqn's MINATAR agent), and of the learning frames alone."""
    begin = time.perf_counter()
    env = make_env(env_id)
    agent = DQNAgent(env.observation_space, env.action_space, MINATAR, seed=seed)
    agent.train(env, warmup, verbose=0)  # learning_starts frames: act and store only
    start = time.perf_counter()
    agent.train(env, frames, verbose=0)
    end = time.perf_counter()
    return end - begin, end - start


def time_torch(env_id: str, warmup: int, frames: int, seed: int) -> tuple[float, float]:
    """Seconds of the whole run and of the `frames` learning frames alone, of the same DQN in
    PyTorch (as time_minidqn)."""
    begin = time.perf_counter()
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    c = MINATAR
    env = make_env(env_id)
    H, W, C = env.observation_space.shape
    n_actions = int(env.action_space.n)

    def q_network() -> nn.Module:  # (B, C, H, W) → (B, A), the network of minidqn's preset
        (channels, k), = c.conv_layers
        return nn.Sequential(nn.Conv2d(C, channels, k), nn.ReLU(), nn.Flatten(),
                             nn.Linear(channels * (H - k + 1) * (W - k + 1), c.hidden_sizes[0]), nn.ReLU(),
                             nn.Linear(c.hidden_sizes[0], n_actions))

    online, target = q_network(), q_network()
    target.load_state_dict(online.state_dict())
    optimizer = torch.optim.RMSprop(online.parameters(), lr=c.lr, alpha=0.95, eps=0.01, centered=True)
    buffer = CompactReplayBuffer(c.buffer_size)  # the uint8 ring minidqn's agent uses
    rng = np.random.default_rng(seed)
    epsilon_schedule = LinearSchedule(c.epsilon_start, c.epsilon_end, c.exploration_steps)  # minidqn's ε

    def image(obs: np.ndarray) -> torch.Tensor:  # (B, H, W, C) floats → (B, C, H, W), torch's layout
        return torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32)).permute(0, 3, 1, 2)

    obs, _ = env.reset(seed=seed)
    updates = 0
    for frame in range(warmup + frames):
        if frame == warmup:
            start = time.perf_counter()
        epsilon = epsilon_schedule(frame)
        if frame < warmup or rng.random() < epsilon:
            action = int(rng.integers(n_actions))
        else:
            with torch.no_grad():
                action = int(online(image(obs[None])).argmax())
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.push(obs.reshape(-1), action, reward, next_obs.reshape(-1), terminated)
        obs = next_obs if not (terminated or truncated) else env.reset()[0]
        if frame < warmup:
            continue
        batch = buffer.sample(c.batch_size, rng)
        states, next_states = image(batch.obs.reshape(-1, H, W, C)), image(batch.next_obs.reshape(-1, H, W, C))
        with torch.no_grad():  # y = r + γ·(1 − terminated)·maxₐ′ Q_target(s′, a′), no gradient
            y = torch.from_numpy(batch.rewards) + c.gamma * torch.from_numpy(1.0 - batch.terminated) * target(next_states).amax(1)
        q = online(states).gather(1, torch.from_numpy(batch.actions)[:, None])[:, 0]  # Q(sᵢ, aᵢ): (B,)
        loss = F.smooth_l1_loss(q, y.float())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        updates += 1
        if updates % c.target_update_interval == 0:
            target.load_state_dict(online.state_dict())
    end = time.perf_counter()
    return end - begin, end - start


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--game", choices=sorted(GAMES), default="breakout")
    parser.add_argument("--frames", type=int, default=10_000, help="learning frames timed per run")
    parser.add_argument("--warmup", type=int, default=MINATAR.learning_starts, help="frames of acting before them")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side, alternating")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("frames", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive integer, got {getattr(args, name)}")
    if args.warmup < MINATAR.batch_size:
        parser.error(f"--warmup must be at least the batch size, {MINATAR.batch_size}, got {args.warmup}")
    env_id = f"MinAtar/{GAMES[args.game]}-v0"
    has_torch = importlib.util.find_spec("torch") is not None
    if not has_torch:
        print("torch is not installed: timing minidqn alone (pip install torch for the comparison)")
    total = args.warmup + args.frames
    print(f"{env_id}: {args.frames:,} learning frames after {args.warmup:,} of warm-up, one core; per round, the "
          f"learning frames alone and the whole run of {total:,} frames (warm-up and set-up included)")
    rows = []
    for round_ in range(1, args.rounds + 1):
        ours, ours_learning = time_minidqn(env_id, args.warmup, args.frames, args.seed + round_)
        row = {"round": round_, "minidqn_seconds": ours_learning, "minidqn_fps": args.frames / ours_learning,
               "minidqn_whole_seconds": ours, "minidqn_whole_fps": total / ours}
        line = (f"round {round_}: minidqn {ours_learning:6.2f} s ({args.frames / ours_learning:4.0f} frames/s), "
                f"whole {ours:6.2f} s ({total / ours:4.0f} frames/s)")
        if has_torch:
            theirs, theirs_learning = time_torch(env_id, args.warmup, args.frames, args.seed + round_)
            row.update(torch_seconds=theirs_learning, torch_fps=args.frames / theirs_learning,
                       ratio=theirs_learning / ours_learning, torch_whole_seconds=theirs,
                       torch_whole_fps=total / theirs, whole_ratio=theirs / ours)
            line += (f"   PyTorch {theirs_learning:6.2f} s, whole {theirs:6.2f} s   minidqn "
                     f"{row['ratio']:.2f}× as fast learning, {row['whole_ratio']:.2f}× whole")
        print(line, flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
