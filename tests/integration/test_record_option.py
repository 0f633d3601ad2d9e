"""``RelayClient(record=...)``: a real session's frames as a scrubbed journal, across reconnects.

The client records every frame both ways; the file is in the emulator's journal format
(the same entries, field by field, as the emulator's own journal of the same frames),
``relaykit trace`` draws it, and ``relaykit.recording`` turns it back into a test: the
caller's script and the program's commands.  Secrets never reach the file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from relay_proto import AuthenticationFailed
from relaykit import _cli
from relaykit.emulator import Caller, Emulator
from relaykit.recording import (
    SCRUBBED,
    caller_from_journal,
    inbound_calls,
    load_journal,
    program_commands,
    scrub,
)

from .conftest import PROJECT, TOKEN, emulator, make_client

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(40)]

JWT = "eyJhbGciOiJIUzI1NiJ9.cmVjb3JkLXRlc3Q.c2lnbmF0dXJlLXNlY3JldA"
MENU = "Press 1 for sales."
THANKS = "Thanks."
FAST_RECONNECT = {"reconnect_min_delay": 0.02, "reconnect_max_delay": 0.1}


def _ivr(client: Any) -> None:
    @client.on_call
    async def handle(call: Any) -> None:
        await call.answer()
        menu = await call.play_and_collect(
            [{"type": "tts", "text": MENU}],
            {"digits": {"max": 2, "digit_timeout": 2, "terminators": "#"}, "initial_timeout": 5},
        )
        result = await menu.wait(timeout=60)
        await (await call.play([{"type": "tts", "text": f"{THANKS} {result.digits}"}])).wait()
        await call.hangup()


def _secrets(emu: Emulator) -> list[str]:
    """The token, the JWT and every authorization_state the emulator handed out."""
    states = [
        e.event_params["authorization_state"]
        for e in emu.journal("signalwire.authorization.state", direction="out")
    ]
    assert states
    assert all(isinstance(s, str) and len(s) > 8 for s in states)
    return [TOKEN, JWT, *states]


async def _wait_reconnected(emu: Emulator, connects: int) -> None:
    await emu.wait_for_journal("signalwire.connect", count=connects, direction="out", timeout=10)


@pytest.mark.parametrize("auth", ["token", "jwt"])
async def test_every_frame_of_every_socket_is_recorded_and_scrubbed(
    adapter: Any, tmp_path: Path, auth: str
) -> None:
    path = tmp_path / "session.jsonl"
    async with emulator(jwt_tokens=[JWT]) as emu:
        credentials: dict[str, Any] = (
            {"project": PROJECT, "token": TOKEN} if auth == "token" else {"jwt_token": JWT}
        )
        client = make_client(adapter, emu, record=str(path), **FAST_RECONNECT, **credentials)
        _ivr(client)
        async with client:
            call = await emu.place_call(context="office", script=Caller().press("42#"))
            record = await call.wait_ended(timeout=60)
            assert record.prompts == [MENU, f"{THANKS} 42"]
            await emu.ping_clients()  # the client has read the call's last answers
            await emu.drop_connections()  # a new socket, the session resumed
            await _wait_reconnected(emu, 2)
            await emu.server_disconnect(restart=True)  # a new socket, a fresh session
            await _wait_reconnected(emu, 3)
            await emu.ping_clients()
        secrets = _secrets(emu)
        server_journal = emu.journal()

    text = path.read_text(encoding="utf-8")
    for secret in secrets:
        assert secret not in text
    entries = load_journal(path)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    # One conn_id per socket, each opened by signalwire.connect, as in the emulator's journal.
    assert sorted({e.conn_id for e in entries}) == [1, 2, 3]
    for conn_id in (1, 2, 3):
        first = next(e for e in entries if e.conn_id == conn_id)
        assert (first.direction, first.kind, first.method) == (
            "in",
            "request",
            "signalwire.connect",
        )
        authentication = first.data["authentication"]
        assert set(authentication.values()) <= {PROJECT, SCRUBBED}
    connect_answers = [
        e for e in entries if e.method == "signalwire.connect" and e.kind == "response"
    ]
    assert [e.data["session_restored"] for e in connect_answers] == [False, True, False]
    assert any(
        e.event_type == "signalwire.authorization.state"
        and e.event_params["authorization_state"] == SCRUBBED
        for e in entries
    )

    # The call's frames are the emulator's own journal entries, field for field (scrubbed),
    # in the same order each way (the two sides may interleave the directions differently).
    (call_id,) = inbound_calls(entries)

    def of_call(journal: list[Any]) -> list[tuple[Any, ...]]:
        ids = {
            e.id
            for e in journal
            if e.kind == "request"
            and (e.data.get("call_id") == call_id or e.event_params.get("call_id") == call_id)
        }
        frames = [
            (e.direction, e.kind, e.method, e.id, scrub(e.data))
            for e in journal
            if e.conn_id == 1 and e.id in ids
        ]
        return [f for f in frames if f[0] == "in"] + [f for f in frames if f[0] == "out"]

    recorded = of_call(entries)
    assert len(recorded) > 10
    assert recorded == of_call(server_journal)

    # relaykit trace draws it.
    page = tmp_path / "session.html"
    assert _cli.main(["trace", str(path), "-o", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert call_id in html
    for secret in secrets:
        assert secret not in html


async def test_a_recording_becomes_a_test_case(adapter: Any) -> None:
    """The recorded caller, replayed on the emulator, makes the program do it all again."""
    out = io.StringIO()
    async with emulator() as emu:
        client = make_client(adapter, emu, record=out)
        _ivr(client)
        async with client:
            first = await emu.place_call(context="office", script=Caller().press("7#"))
            original = await first.wait_ended(timeout=60)
            out.seek(0)
            recording = load_journal(out)
            script = caller_from_journal(recording)
            assert script.steps == Caller().press("7#").steps
            replay = await emu.place_call(context="office", script=script)
            again = await replay.wait_ended(timeout=60)
    assert again.prompts == original.prompts == [MENU, f"{THANKS} 7"]
    assert program_commands(recording) == original.methods == again.methods
    assert out.closed is False  # a file object given by the program is never closed


async def test_a_caller_who_hangs_up_is_replayed_hanging_up(adapter: Any) -> None:
    out = io.StringIO()
    async with emulator() as emu:
        client = make_client(adapter, emu, record=out)

        @client.on_call
        async def handle(call: Any) -> None:
            await call.answer()
            await call.wait_for_ended()

        async with client:
            call = await emu.place_call(context="office", script=Caller().hangup_after(3))
            record = await call.wait_ended(timeout=60)
    assert record.hung_up_by == "remote"
    out.seek(0)
    script = caller_from_journal(load_journal(out))
    assert script.hangup_seconds is not None
    assert script.hangup_seconds >= 0


async def test_restarting_the_client_appends_to_its_recording(adapter: Any, tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    async with emulator() as emu:
        client = make_client(adapter, emu, record=path)
        async with client:
            pass
        closed_once = path.read_text(encoding="utf-8")
        async with client:
            pass
    entries = load_journal(path)
    assert path.read_text(encoding="utf-8").startswith(closed_once)
    assert [e.conn_id for e in entries if e.method == "signalwire.connect"] == [1, 1, 2, 2]


async def test_relaykit_record_names_the_file_and_the_argument_wins(
    adapter: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env, from_arg = tmp_path / "env.jsonl", tmp_path / "arg.jsonl"
    monkeypatch.setenv("RELAYKIT_RECORD", str(from_env))
    async with emulator() as emu:
        async with make_client(adapter, emu):
            pass
        async with make_client(adapter, emu, record=str(from_arg)):
            pass
    assert load_journal(from_env)[0].method == "signalwire.connect"
    assert load_journal(from_arg)[0].method == "signalwire.connect"
    assert len(load_journal(from_env)) < 20  # the second client wrote elsewhere


async def test_a_rejected_login_is_recorded_without_its_token(adapter: Any) -> None:
    out = io.StringIO()
    async with emulator() as emu:
        client = make_client(adapter, emu, token="wrong-secret-token", record=out, **FAST_RECONNECT)
        with pytest.raises(AuthenticationFailed):  # connect() raises; only run() exits
            await client.connect()
    text = out.getvalue()
    assert "wrong-secret-token" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [e["kind"] for e in lines if e["method"] == "signalwire.connect"][:2] == [
        "request",
        "error",
    ]


@pytest.mark.parametrize(
    ("record", "error", "words"),
    [
        (42, TypeError, "record= takes a file path or an open text file, not int"),
        ("  ", ValueError, "record= must be a file path"),
        ("/nonexistent-dir/x/session.jsonl", OSError, "record='/nonexistent-dir/x/session"),
    ],
)
def test_a_bad_record_target_fails_at_construction(
    record: object, error: type[Exception], words: str
) -> None:
    import relay_anyio

    with pytest.raises(error) as info:
        relay_anyio.RelayClient(project="p", token="t", url="ws://127.0.0.1:1", record=record)  # type: ignore[arg-type]
    assert words in str(info.value)


def test_load_journal_names_the_line_that_is_not_an_entry(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"seq": 1, "time": 0, "conn_id": 1, "direction": "sideways"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:1: not a journal entry: 'direction'"):
        load_journal(path)
    path.write_text("not json\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:1: not JSON"):
        load_journal(path)


async def test_journals_with_no_or_several_calls_need_a_call_id(adapter: Any) -> None:
    out = io.StringIO()
    async with emulator() as emu:
        client = make_client(adapter, emu, record=out)
        _ivr(client)
        async with client:
            for digits in ("1#", "2#"):
                call = await emu.place_call(context="office", script=Caller().press(digits))
                await call.wait_ended(timeout=60)
    out.seek(0)
    entries = load_journal(out)
    with pytest.raises(ValueError, match="holds 2 inbound calls"):
        caller_from_journal(entries)
    second = inbound_calls(entries)[1]
    assert caller_from_journal(entries, second).steps == Caller().press("2#").steps
    with pytest.raises(ValueError, match="no inbound call 'nope'"):
        program_commands(entries, "nope")
