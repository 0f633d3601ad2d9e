"""relaykit.recording: a real session's frames as a scrubbed journal ``relaykit trace`` draws."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from relay_proto import RelayConnection
from relaykit import _cli
from relaykit.recording import SCRUBBED, SessionRecorder, scrub

pytestmark = pytest.mark.timeout(20)

TOKEN = "PT-very-secret"
JWT = "eyJ.secret.jwt"
STATE = "c2VjcmV0LXN0YXRl"


def _event(event_id: str, envelope: dict[str, object]) -> str:
    message = {"jsonrpc": "2.0", "id": event_id, "method": "signalwire.event", "params": envelope}
    return json.dumps(message)


def _session(record: SessionRecorder) -> None:
    """A text-transport session: connect, authorization state, an event, a failed command."""
    conn = RelayConnection(websocket=False, on_frame=record)
    conn.open_session(project="p-1", token=TOKEN, contexts=["office"])
    record.new_connection()
    conn.connection_made(0.0)
    (connect,) = conn.texts_to_send()
    connect_id = json.loads(connect)["id"]
    answer = {
        "identity": "p-1@relay",
        "protocol": "signalwire_x",
        "authorization": {"jwt_token": JWT},
    }
    conn.receive_text(json.dumps({"jsonrpc": "2.0", "id": connect_id, "result": answer}), 0.1)
    state = {
        "event_type": "signalwire.authorization.state",
        "params": {"authorization_state": STATE},
    }
    conn.receive_text(
        json.dumps({"jsonrpc": "2.0", "id": "e-1", "method": "signalwire.event", "params": state}),
        0.2,
    )
    offer = {
        "event_type": "calling.call.receive",
        "params": {"call_id": "c-1", "node_id": "n", "call_state": "ringing", "context": "office"},
    }
    conn.receive_text(
        json.dumps({"jsonrpc": "2.0", "id": "e-2", "method": "signalwire.event", "params": offer}),
        0.3,
    )
    request_id = conn.send_request("calling.answer", {"call_id": "c-1", "node_id": "n"}, 0.4)
    error = {"code": -32000, "message": "no such call"}
    conn.receive_text(json.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}), 0.5)
    conn.receive_text('{"token": "PT-leak", not json', 0.6)
    conn.texts_to_send()


def test_scrub_replaces_secrets_at_any_depth() -> None:
    value = {"a": [{"token": "x"}, {"b": {"authorization_state": "y", "keep": 1}}]}
    assert scrub(value) == {
        "a": [{"token": SCRUBBED}, {"b": {"authorization_state": SCRUBBED, "keep": 1}}]
    }


def test_a_session_is_journaled_scrubbed_and_in_the_emulator_format(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    ticks = iter(range(100))
    recorder = SessionRecorder(path, clock=lambda: float(next(ticks)))
    _session(recorder)
    recorder.close()
    text = path.read_text(encoding="utf-8")
    for secret in (TOKEN, JWT, STATE, "PT-leak"):
        assert secret not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert {tuple(sorted(e)) for e in entries} == {
        ("conn_id", "data", "direction", "id", "kind", "method", "seq", "time")
    }
    summary = [(e["direction"], e["kind"], e["method"]) for e in entries]
    assert summary[:2] == [
        ("in", "request", "signalwire.connect"),
        ("out", "response", "signalwire.connect"),
    ]
    assert ("out", "request", "signalwire.event") in summary
    assert ("in", "response", "signalwire.event") in summary  # the core's ACKs
    assert ("in", "request", "calling.answer") in summary
    assert ("out", "error", "calling.answer") in summary
    assert summary[-1] == ("out", "invalid", None)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["data"]["authentication"]["token"] == SCRUBBED


def test_relaykit_trace_draws_a_recorded_session(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    recorder = SessionRecorder(path, clock=lambda: 0.0)
    _session(recorder)
    recorder.close()
    page = tmp_path / "session.html"
    assert _cli.main(["trace", str(path), "-o", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "c-1" in html
    assert TOKEN not in html


def test_a_broken_file_stops_recording_with_one_error(caplog: pytest.LogCaptureFixture) -> None:
    target = io.StringIO()
    recorder = SessionRecorder(target, clock=lambda: 0.0)
    target.close()
    recorder(True, '{"jsonrpc": "2.0", "id": 1, "method": "x", "params": {}}')
    recorder(True, '{"jsonrpc": "2.0", "id": 2, "method": "x", "params": {}}')
    assert [r.getMessage() for r in caplog.records].count(
        "session recording stopped: I/O operation on closed file"
    ) == 1


def test_a_wrong_target_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="record="):
        SessionRecorder(42, clock=lambda: 0.0)  # type: ignore[arg-type]
