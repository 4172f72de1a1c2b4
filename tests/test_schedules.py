"""Exploration and learning-rate schedules."""


import pytest

from minidqn.agents.schedules import (
    ConstantSchedule,
    ExponentialSchedule,
    LinearSchedule,
)


def test_constant_schedule_never_changes():
    s = ConstantSchedule(0.1)
    assert [s(t) for t in (0, 10, 10**6)] == [0.1, 0.1, 0.1]


def test_linear_schedule_interpolates_then_stays_at_end():
    s = LinearSchedule(start=1.0, end=0.05, duration=100)
    assert s(0) == 1.0
    assert s(50) == pytest.approx(0.525)
    assert s(100) == pytest.approx(0.05)
    assert s(10_000) == pytest.approx(0.05)


def test_exponential_schedule_decays_to_its_floor():
    s = ExponentialSchedule(start=1.0, end=0.01, decay=0.9)
    assert s(1) == pytest.approx(0.9)
    assert s(3) == pytest.approx(0.729)
    assert s(1000) == 0.01


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ConstantSchedule(1.5), "value"),
        (lambda: LinearSchedule(-0.1, 0.0, 10), "start"),
        (lambda: LinearSchedule(1.0, 0.0, 0), "duration"),
        (lambda: ExponentialSchedule(1.0, 0.0, 1.0), "decay"),
        (lambda: ExponentialSchedule(1.0, 2.0, 0.5), "end"),
    ],
)
def test_schedules_reject_bad_values(make, match):
    with pytest.raises(ValueError, match=match):
        make()

