"""The transition table: every (state, input) either moves or raises a typed error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay_proto import LocalProtocolError, SessionState
from relay_proto._state import TRANSITIONS, SessionInput, SessionStateMachine

pytestmark = pytest.mark.timeout(30)


@given(st.lists(st.sampled_from(list(SessionInput)), max_size=30))
def test_every_input_transitions_or_raises(inputs: list[SessionInput]) -> None:
    machine = SessionStateMachine()
    for event in inputs:
        before = machine.state
        if (before, event) in TRANSITIONS:
            assert machine.can(event)
            assert machine.process(event) is TRANSITIONS[before, event]
        else:
            assert not machine.can(event)
            with pytest.raises(LocalProtocolError, match=before.value):
                machine.process(event)
            assert machine.state is before


def test_terminal_states_are_absorbing() -> None:
    for (state, _), target in TRANSITIONS.items():
        if state in (SessionState.CLOSED, SessionState.FAILED):
            assert target is state


def test_every_state_reachable_from_idle() -> None:
    seen = {SessionState.IDLE}
    frontier = [SessionState.IDLE]
    while frontier:
        state = frontier.pop()
        for (src, _), dst in TRANSITIONS.items():
            if src is state and dst not in seen:
                seen.add(dst)
                frontier.append(dst)
    assert seen == set(SessionState)


def test_every_non_terminal_state_can_close() -> None:
    for state in SessionState:
        assert (state, SessionInput.CLOSE) in TRANSITIONS
