"""Every action class points at its row in the core's action table (one owner per fact)."""

from __future__ import annotations

import pytest

import relaykit.client as api
from relay_proto import ACTION_KINDS, ACTION_SPECS, EVENT_CLASSES

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
    spec = cls._spec
    assert spec is not None
    assert ACTION_SPECS[spec.kind] is spec  # the core's own row, not a copy
    assert EVENT_CLASSES[spec.event_type] is spec.event_class


def test_every_core_kind_with_a_handle_has_a_class() -> None:
    # send_digits and queue are plain commands (no handle) in the official client too.
    handled = {cls._spec.kind for cls in CONCRETE if cls._spec is not None}
    assert set(ACTION_KINDS.values()) - handled == {"send_digits", "queue"}
