"""What a reader looks at, drawn with matplotlib: learning curves, Q-tables, animations, diagrams.

`plotting` draws runs and agents; `sweep_curves` the learning curves of many trials with their
uncertainty; `diagrams` draws the ideas of the start page from real objects; `probe` records
what the networks say about fixed inputs while an agent trains, for those pictures. Only this
part and the command line import matplotlib.

May import: minidqn.common, minidqn.nn, minidqn.memory, minidqn.training, minidqn.agents, minidqn.stats.
"""
