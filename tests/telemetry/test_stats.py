"""``RelayConnection.stats``: the core's liveness and request counters (no event loop)."""

from __future__ import annotations

import json

import pytest

from relay_proto import ConnectionStats, RelayConnection

pytestmark = pytest.mark.timeout(10)


def _sent(conn: RelayConnection) -> list[dict[str, object]]:
    return [json.loads(text) for text in conn.texts_to_send()]


def _answer(conn: RelayConnection, request_id: object, result: object, now: float) -> None:
    conn.receive_text(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}), now)


def test_stats_follow_the_queue_the_wire_and_the_ping() -> None:
    conn = RelayConnection(websocket=False, ping_interval=5.0, request_timeout=3.0)
    conn.open_session(project="p", token="t", contexts=["office"])
    assert conn.stats == ConnectionStats(
        last_received=None, last_ping_rtt=None, in_flight=0, queued=0
    )
    conn.connection_made(0.0)
    (connect,) = _sent(conn)
    # Offline (not authenticated yet): a request waits in the queue.
    conn.send_request("calling.answer", {"call_id": "c1", "node_id": "n"}, 0.05)
    assert conn.stats.queued == 1
    assert conn.stats.in_flight == 1  # the signalwire.connect itself
    _answer(conn, connect["id"], {"protocol": "proto", "identity": "me"}, 0.1)
    assert conn.stats.last_received == 0.1
    assert conn.stats.queued == 0
    (answer,) = _sent(conn)
    assert answer["method"] == "calling.answer"
    assert conn.stats.in_flight == 1
    _answer(conn, answer["id"], {"code": "200"}, 0.2)
    assert conn.stats.in_flight == 0
    # The client ping goes out ping_interval after authentication; its round trip is kept.
    conn.handle_timer(5.1)
    (ping,) = _sent(conn)
    assert ping["method"] == "signalwire.ping"
    assert conn.stats.in_flight == 1
    _answer(conn, ping["id"], {}, 5.35)
    stats = conn.stats
    assert stats.last_ping_rtt == pytest.approx(0.25)
    assert stats.last_received == 5.35
    assert stats.in_flight == 0
    with pytest.raises(AttributeError):
        stats.queued = 3  # type: ignore[misc]  # frozen: a copy, safe to hand around
