"""The agents: DQN on the network and the replay memory, tabular Q-learning, and their parts.

`config` (every hyperparameter, checked), `dqn` (the DQN agent and its loop) with `dqn_formats`
(older checkpoints), `policy` (the trained network alone), `target_network`, `schedules` and
`exploration`; `tabular`, `discretizer` and `value_iteration` (Q-learning with a table and the
exact answer); `keras_rl` (the tutorial's settings in minidqn's names).

May import: minidqn.common, minidqn.nn, minidqn.memory, minidqn.training.
"""
