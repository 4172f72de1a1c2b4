"""n-step transitions: the folded returns, worked by hand, at terminations and at time limits."""

import numpy as np
import pytest

from minidqn.memory.nstep import NStepTransitions


def _run(folder, rewards, terminated_at=None, truncated_at=None):
    """Feed states 0, 1, 2, ... with the given rewards; return every transition that comes out."""
    out = []
    for t, r in enumerate(rewards):
        out += folder.add(np.array([t]), t % 2, r, np.array([t + 1]), t == terminated_at, t == truncated_at)
    return [(int(s[0]), a, R, int(s2[0]), term) for s, a, R, s2, term in out]


def test_three_step_returns_sum_three_discounted_rewards_and_skip_three_states():
    folder = NStepTransitions(n=3, gamma=0.5)
    got = _run(folder, [1.0, 2.0, 4.0, 8.0, 16.0])
    # R_0 = 1 + 0.5·2 + 0.25·4 = 3, from s0 to s3; R_1 = 2 + 2 + 2 = 6; R_2 = 4 + 4 + 4 = 12.
    assert got == [(0, 0, 3.0, 3, False), (1, 1, 6.0, 4, False), (2, 0, 12.0, 5, False)]
    assert len(folder.pending) == 2  # steps 3 and 4 wait for their third reward


def test_a_termination_flushes_every_pending_step_with_its_shorter_return():
    folder = NStepTransitions(n=3, gamma=0.5)
    got = _run(folder, [1.0, 2.0, 4.0, 8.0], terminated_at=3)
    # After (0 → 3), steps 1, 2, 3 end at the terminal state s4 with 3, 2 and 1 rewards.
    assert got == [(0, 0, 3.0, 3, False), (1, 1, 2.0 + 2.0 + 2.0, 4, True), (2, 0, 4.0 + 4.0, 4, True),
                   (3, 1, 8.0, 4, True)]
    assert not folder.pending


def test_a_time_limit_drops_the_steps_without_an_nth_successor():
    folder = NStepTransitions(n=3, gamma=0.5)
    got = _run(folder, [1.0, 2.0, 4.0, 8.0], truncated_at=3)
    # (0 → 3) and (1 → 4) are complete n-step transitions, bootstrapped later with γ³; steps 2
    # and 3 would need s5 and s6, which the time limit never shows: dropped, not terminated.
    assert got == [(0, 0, 3.0, 3, False), (1, 1, 6.0, 4, False)]
    assert not folder.pending


def test_one_step_is_the_plain_transition():
    folder = NStepTransitions(n=1, gamma=0.9)
    got = _run(folder, [1.5, -2.0, 3.0], truncated_at=2)
    assert got == [(0, 0, 1.5, 1, False), (1, 1, -2.0, 2, False), (2, 0, 3.0, 3, False)]


def test_pending_states_are_copies_and_reset_forgets_them():
    folder = NStepTransitions(n=2, gamma=1.0)
    obs = np.array([7.0])
    folder.add(obs, 0, 1.0, np.array([8.0]), False, False)
    obs[0] = -1.0  # an env that reuses its observation array must not rewrite stored states
    (s, a, R, s2, term), = folder.add(np.array([8.0]), 1, 1.0, np.array([9.0]), False, False)
    assert (s[0], a, R, s2[0], term) == (7.0, 0, 2.0, 9.0, False)
    folder.reset()
    assert not folder.pending


@pytest.mark.parametrize("n", [0, -1, 2.0, True, "3"])
def test_bad_n_is_refused(n):
    with pytest.raises(ValueError, match="n must be a positive integer"):
        NStepTransitions(n=n, gamma=0.9)
