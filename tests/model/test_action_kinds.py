"""Every action class names a kind the core knows, and the kind's event type."""

from __future__ import annotations

import pytest

import relaykit.client as api
from relay_proto import ACTION_KINDS, EVENT_CLASSES

pytestmark = pytest.mark.timeout(30)

CONCRETE = [
    api.PlayAction,
    api.RecordAction,
    api.CollectAction,
    api.StandaloneCollectAction,
    api.DetectAction,
    api.FaxAction,
    api.TapAction,
    api.StreamAction,
    api.PayAction,
    api.TranscribeAction,
    api.AIAction,
]


@pytest.mark.parametrize("cls", CONCRETE, ids=lambda c: c.__name__)
def test_action_kind_matches_the_core(cls: type[api.Action]) -> None:
    kind = cls._kind
    assert kind.name in set(ACTION_KINDS.values())
    assert kind.event_type in EVENT_CLASSES


def test_every_core_kind_with_a_handle_has_a_class() -> None:
    # send_digits and queue are plain commands (no handle) in the official client too.
    handled = {cls._kind.name for cls in CONCRETE}
    assert set(ACTION_KINDS.values()) - handled == {"send_digits", "queue"}
