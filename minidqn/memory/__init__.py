"""Replay memory, knowing nothing of networks: where transitions are kept and how they are drawn.

`ring` is the agent's memory (one preallocated array used as a ring), with `deque_replay` its
tested twin in a `collections.deque`; `compact` keeps the ring's observations as bytes;
`prioritized` draws by TD error through `sum_tree`; `nstep` folds n steps into one transition
before it is stored.

May import: minidqn.common.
"""
