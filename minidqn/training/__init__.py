"""What surrounds any agent's training loop, for every agent alike: the env boundary and the records.

`env_api` checks what an environment returns where it enters; `evaluation` plays greedy episodes
and measures an agent every K env steps; `history` keeps one record per episode, streamed to CSV;
`run` is the TrainingRun around a loop (progress, checkpoints, Ctrl-C, the divergence guard);
`wrappers` are the changes to a training env a run can name.

May import: minidqn.common.
"""
