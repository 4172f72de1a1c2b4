"""The `minidqn` command line and the run folders it trains into.

`commands` (the parser and each command), `flags` (every config field a flag), `presets` (a tuned
config and budget per env), `run_folder` (train into a folder, resume, record, plot), which the
demos use too, `run_reading` (a folder read back as data: run.json, the env, the policy, the
records), `run_files` (which files a run writes, and replacing a run), `folder_lock` (one
writer per folder), `agents` (DQN and the Q-table alike), `sweep` and `tune` (many trials on
Ray, a search by Optuna over `search_space`: the only modules that import them, and only when
they run) and `tensorboard` (event files, with the sweep extra).

May import: minidqn.common, minidqn.nn, minidqn.memory, minidqn.training, minidqn.agents,
minidqn.pictures, minidqn.experiments, minidqn.stats.
"""
