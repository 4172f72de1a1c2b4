"""Experiments beyond one run: many seeds and settings, each trial an ordinary training run.

`trial` trains one agent on one seed and measures it as it goes (steps to solve, whether the
final policy holds, throughput), for the benchmark and ablation demos; `sweep_spec` reads a
sweep (seeds times config values, or a TOML file of rows) into its trials, each config checked
before any runs (the command line's `minidqn sweep` runs them).

May import: minidqn.common, minidqn.nn, minidqn.memory, minidqn.training, minidqn.agents.
"""
