"""Experiments beyond one run: many seeds and settings, each trial an ordinary training run.

`sweep_spec` reads a sweep (seeds times config values, or a TOML file of rows) into its trials,
each config checked before any runs; the command line's `minidqn sweep` runs them, each trial an
ordinary run folder, and the benchmark and ablation demos are sweeps too.

May import: minidqn.common, minidqn.nn, minidqn.memory, minidqn.training, minidqn.agents.
"""
