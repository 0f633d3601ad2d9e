"""The emulator's lost-answer fault: the request runs, only its JSON-RPC answer never goes out."""

from __future__ import annotations

import pytest

from relaykit.emulator._faults import FaultPlan


def test_lost_answers_are_counted_per_method() -> None:
    plan = FaultPlan()
    plan.lose_answer_to_next("calling.dial", count=2)
    assert not plan.take_lost_answer("calling.play")
    assert plan.take_lost_answer("calling.dial")
    assert plan.take_lost_answer("calling.dial")
    assert not plan.take_lost_answer("calling.dial")


@pytest.mark.parametrize("count", [0, -1])
def test_lost_answer_count_must_be_positive(count: int) -> None:
    with pytest.raises(ValueError, match="count"):
        FaultPlan().lose_answer_to_next("calling.dial", count=count)
