"""The agents: DQN on the network and the replay memory, tabular Q-learning, and their parts.

`config` (every hyperparameter, checked), `dqn` (the DQN agent and its loop) with `dqn_formats`
(older checkpoints), `value_heads` (one Q-value per action, or a distribution: C51, QR-DQN), `policy` (the trained network alone), `target_network`, `schedules` and
`exploration`; `tabular`, `discretizer` and `value_iteration` (Q-learning with a table and the
exact answer); `keras_rl` (the tutorial's settings in minidqn's names).

May import: minidqn.common, minidqn.nn, minidqn.memory, minidqn.training, minidqn.distributional.
"""
