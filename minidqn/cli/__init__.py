"""The `minidqn` command line and the run folders it trains into.

`commands` (the parser and each command), `flags` (every config field a flag), `presets` (a tuned
config and budget per env) and `run_folder` (train into a folder, resume, record, plot, read
back), which the demos use too.

May import: minidqn.common, minidqn.nn, minidqn.memory, minidqn.training, minidqn.agents,
minidqn.pictures, minidqn.experiments.
"""
