"""``relaykit trace``: a real emulator session's journal, drawn, and the drawing parsed back.

The journal comes from an in-process session (the emulator and a relay_anyio
client on loopback): call 1 plays a hostile TTS text and collects a digit, one
``calling.play`` is made to fail (500), then the program hangs up; call 2 is
answered and hung up with ``busy``.  The HTML is parsed with ``html.parser`` and
each inline SVG with ``xml.etree``; the checks compare it with the journal.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import anyio
import pytest

from relay_anyio import RelayClient
from relay_proto import RelayServerError
from relaykit._trace import RED, add_parser, dump_journal, render_html, run
from relaykit.emulator import Caller, Emulator

pytestmark = pytest.mark.timeout(30)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = "</script><svg onload=alert(1)>"
TOKEN = "t-trace-secret"


async def _session() -> list[dict[str, Any]]:
    done = anyio.Event()
    served = 0

    async def handle(call: Any) -> None:
        nonlocal served
        await call.answer()
        if call.device["params"]["to_number"].endswith("1"):
            collect = await call.play_and_collect(
                [{"type": "tts", "text": HOSTILE}],
                {"digits": {"max": 1, "digit_timeout": 3}, "initial_timeout": 5},
            )
            await collect.wait()
            with pytest.raises(RelayServerError):
                await call.play([{"type": "tts", "text": "never played"}])
            await call.hangup()
        else:
            await call.hangup("busy")
        served += 1
        if served == 2:
            done.set()

    async with Emulator(project="p", token=TOKEN, time_scale=0.001) as emu:
        client = RelayClient(project="p", token=TOKEN, url=emu.url, contexts=["ivr"])
        client.on_call(handle)
        async with client:
            emu.fail_next("calling.play", code="500", message="Injected failure")
            first = await emu.place_call(
                context="ivr",
                to_number="+15550000001",
                script=Caller(ring_timeout=10_000).press("1"),
            )
            await first.wait_ended(timeout=10)
            second = await emu.place_call(
                context="ivr", to_number="+15550000002", script=Caller(ring_timeout=10_000)
            )
            await second.wait_ended(timeout=10)
            with anyio.fail_after(10):
                await done.wait()
            await client.drain(5)
        buffer = io.StringIO()
        dump_journal(emu.journal(), buffer)
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.fixture(scope="module")
def journal() -> list[dict[str, Any]]:
    return anyio.run(_session)


@pytest.fixture(scope="module")
def page(journal: list[dict[str, Any]]) -> str:
    return render_html(journal, title="a <b>test</b> session")


# --------------------------------------------------------------------- parsing helpers
class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser.tags


def _sections(page: str) -> dict[str, ET.Element]:
    """data-call of each section -> its diagram, parsed as XML."""
    found = re.findall(
        r'<section class="group" id="[^"]*" data-call="([^"]*)">(.*?)</section>', page, re.S
    )
    out = {}
    for call, body in found:
        (svg,) = re.findall(r"<svg xmlns=.*?</svg>", body, re.S)
        out[call] = ET.fromstring(svg)
    return out


def _arrows(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if "arrow" in g.get("class", "").split()]


def _journal_calls(journal: list[dict[str, Any]]) -> dict[int, str]:
    """seq -> call id, computed here independently of the renderer."""
    calls: dict[int, str] = {}
    asked: dict[tuple[int, Any], str] = {}
    for entry in journal:
        data = entry["data"]
        call = data.get("call_id") or (data.get("params") or {}).get("call_id")
        if entry["kind"] == "request" and call:
            asked[(entry["conn_id"], entry["id"])] = call
        if entry["kind"] in ("response", "error"):
            call = call or asked.get((entry["conn_id"], entry["id"]))
        calls[entry["seq"]] = call or ""
    return calls


# --------------------------------------------------------------------- the drawing
def test_three_lanes_in_order(page: str) -> None:
    for svg in _sections(page).values():
        lanes = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "lane"]
        assert [g.get("data-lane") for g in lanes] == ["program", "relay", "caller"]
        xs = [float(g.find(f"{SVG}line").get("x1")) for g in lanes]  # type: ignore[union-attr]
        assert xs == sorted(xs)


def test_every_frame_is_one_arrow_in_its_call_in_journal_order(
    journal: list[dict[str, Any]], page: str
) -> None:
    sections = _sections(page)
    expected = _journal_calls(journal)
    calls = sorted({c for c in expected.values() if c})
    assert len(calls) == 2
    assert sorted(sections) == sorted(["", *calls])  # "" is the session group
    seen: list[int] = []
    for call, svg in sections.items():
        seqs = [
            int(a.get("data-seq", "")) for a in _arrows(svg) if a.get("data-derived") == "false"
        ]
        assert seqs == sorted(seqs), f"arrows of {call or 'session'} out of journal order"
        assert all(expected[s] == call for s in seqs)
        seen += seqs
    assert sorted(seen) == [e["seq"] for e in journal]  # each frame exactly once

    by_seq = {e["seq"]: e for e in journal}
    for svg in sections.values():
        for arrow in _arrows(svg):
            if arrow.get("data-derived") == "true":
                continue
            entry = by_seq[int(arrow.get("data-seq", ""))]
            lanes = (arrow.get("data-source"), arrow.get("data-target"))
            assert lanes == (
                ("program", "relay") if entry["direction"] == "in" else ("relay", "program")
            )
            category = arrow.get("data-category")
            if entry["method"] == "signalwire.event":
                assert category == ("event" if entry["kind"] == "request" else "ack")
            elif entry["direction"] == "in" and entry["kind"] == "request":
                assert category == "command"
            elif entry["direction"] == "out" and entry["kind"] == "response":
                assert category == "result"


def test_the_caller_lane_shows_what_the_caller_did(page: str, journal: list[Any]) -> None:
    calls = sorted(c for c in _sections(page) if c)
    arrows = _arrows(_sections(page)[calls[0]])
    labels = [a.find(f"{SVG}text[@class='label']").text for a in arrows]  # type: ignore[union-attr]
    caller = [
        (i, labels[i])
        for i, a in enumerate(arrows)
        if "caller" in (a.get("data-source"), a.get("data-target"))
    ]
    assert all(arrows[i].get("data-derived") == "true" for i, _ in caller)
    assert caller[0][1].startswith("dials")
    assert caller[0][0] < labels.index("calling.call.receive created")
    pressed = next(i for i, label in caller if label == "presses 1")
    assert arrows[pressed].get("data-source") == "caller"
    collect = next(i for i, label in enumerate(labels) if label.startswith("calling.call.collect"))
    assert pressed < collect
    assert any(label.startswith("plays ") for _, label in caller)


def test_failures_are_red_and_summarised(page: str, journal: list[dict[str, Any]]) -> None:
    (failure,) = [e for e in journal if e["kind"] == "response" and e["data"].get("code") == "500"]
    (busy,) = [
        e
        for e in journal
        if e["method"] == "calling.end"
        and e["kind"] == "request"
        and e["data"].get("reason") == "busy"
    ]
    sections = _sections(page)
    arrows = {
        int(a.get("data-seq", "")): a
        for s in sections.values()
        for a in _arrows(s)
        if a.get("data-derived") == "false"
    }
    for entry in (failure, busy):
        arrow = arrows[entry["seq"]]
        assert arrow.get("data-failed") == "true"
        assert arrow.find(f"{SVG}line").get("stroke") == RED  # type: ignore[union-attr]
    ok = [e for e in journal if e["kind"] == "response" and e["data"].get("code") == "200"]
    assert ok
    for entry in ok:
        assert arrows[entry["seq"]].get("data-failed") == "false"
        assert arrows[entry["seq"]].find(f"{SVG}line").get("stroke") != RED  # type: ignore[union-attr]
    assert f"seq {failure['seq']}: calling.play: 500 Injected failure" in page


def test_hostile_text_is_escaped_and_credentials_are_not_shown(page: str) -> None:
    assert HOSTILE not in page
    assert TOKEN not in page
    tags = _elements(page)
    assert not [t for t, _ in tags if t == "script"]
    assert not [a for _, a in tags if any(k.startswith("on") for k in a)]
    assert [t for t, _ in tags].count("svg") == len(_sections(page)) + len(
        re.findall(r"<li data-category=", page)
    )
    # ... and the text survives as text: in the play's hover title and its label.
    titles = [el.text or "" for svg in _sections(page).values() for el in svg.iter(f"{SVG}title")]
    assert any(HOSTILE in t and '"calling.play_and_collect"' in t for t in titles)
    assert "<title>a &lt;b&gt;test&lt;/b&gt; session</title>" in page


def test_control_characters_and_lone_surrogates_still_make_valid_svg() -> None:
    entries = [
        {
            "seq": 1,
            "time": 0.0,
            "conn_id": 1,
            "direction": "in",
            "kind": "request",
            "method": "calling.play",
            "id": "a\x00",
            "data": {
                "call_id": "c\x01",
                "play": [{"type": "tts", "params": {"text": "x\ud800\x07"}}],
            },
        },
    ]
    page = render_html(entries, title="t\x1b")
    page.encode("utf-8")  # no lone surrogate left
    for svg in _sections(page).values():
        assert len(_arrows(svg)) == 1


def test_unknown_shapes_are_listed_and_skipped(journal: list[dict[str, Any]]) -> None:
    entries: list[Any] = [{"direction": "sideways", "kind": "request"}, journal[0], ["not", "an"]]
    page = render_html(entries, title="t")
    assert "2 skipped entries" in page
    assert "entry 1: &#x27;direction&#x27; is &#x27;sideways&#x27;" in page
    assert "entry 3: not an object (a list)" in page
    assert sum(len(_arrows(s)) for s in _sections(page).values()) == 1


# --------------------------------------------------------------------- the command
def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="relaykit")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["trace", *argv])


def _write(path: Path, journal: list[dict[str, Any]], extra: list[str] | None = None) -> None:
    lines = [json.dumps(e) for e in journal]
    for index, line in enumerate(extra or []):
        lines.insert(2 + index * 3, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_run_writes_the_html_next_to_the_journal(
    tmp_path: Path, journal: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "session.jsonl"
    _write(source, journal)
    args = _args(str(source))
    assert args.func is run
    assert run(args) == 0
    page = (tmp_path / "session.html").read_text(encoding="utf-8")
    assert len(_sections(page)) == 3
    assert "-> " + str(tmp_path / "session.html") in capsys.readouterr().out


def test_run_one_call(tmp_path: Path, journal: list[dict[str, Any]]) -> None:
    source = tmp_path / "session.jsonl"
    _write(source, journal)
    call = sorted(c for c in _journal_calls(journal).values() if c)[1]
    out = tmp_path / "one.html"
    assert run(_args(str(source), "-o", str(out), "--call", call, "--title", "one")) == 0
    sections = _sections(out.read_text(encoding="utf-8"))
    assert list(sections) == [call]


def test_run_unknown_call_lists_the_calls(
    tmp_path: Path, journal: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "session.jsonl"
    _write(source, journal)
    assert run(_args(str(source), "--call", "call-nope")) == 2
    err = capsys.readouterr().err
    assert "no call 'call-nope'" in err
    assert all(c in err for c in _journal_calls(journal).values() if c)
    assert not (tmp_path / "session.html").exists()


def test_bad_lines_are_reported_with_line_numbers_and_skipped(
    tmp_path: Path, journal: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.jsonl"
    _write(source, journal, ["{not json", '{"direction": "in", "kind": "nope"}', "[1, 2]"])
    with source.open("ab") as f:
        f.write(b"\xff\xfe\n")
    assert run(_args(str(source))) == 0
    err = capsys.readouterr().err
    lines = source.read_bytes().splitlines()
    assert "bad.jsonl:3: skipped: not JSON" in err
    assert "bad.jsonl:6: skipped: 'kind' is 'nope'" in err
    assert "bad.jsonl:9: skipped: not a JSON object (a list)" in err
    assert f"bad.jsonl:{len(lines)}: skipped: not UTF-8" in err
    page = (tmp_path / "bad.html").read_text(encoding="utf-8")
    assert "4 skipped lines" in page
    assert sum(
        len([a for a in _arrows(s) if a.get("data-derived") == "false"])
        for s in _sections(page).values()
    ) == len(journal)


def test_empty_journal_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    assert run(_args(str(empty))) == 2
    assert "has no journal entries to draw" in capsys.readouterr().err
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("nope\n", encoding="utf-8")
    assert run(_args(str(garbage))) == 2
    assert "(1 line(s) skipped)" in capsys.readouterr().err
    assert run(_args(str(tmp_path / "missing.jsonl"))) == 2
    assert "cannot read" in capsys.readouterr().err


def test_stdin_to_stdout(
    journal: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = "".join(json.dumps(e) + "\n" for e in journal)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert run(_args("-")) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("<!DOCTYPE html>")
    assert len(_sections(captured.out)) == 3
    assert "<title>relaykit trace: &lt;stdin&gt;</title>" in captured.out


def test_dump_journal_scrubs_credentials(journal: list[dict[str, Any]]) -> None:
    (connect,) = [
        e for e in journal if e["method"] == "signalwire.connect" and e["kind"] == "request"
    ]
    assert connect["data"]["authentication"] == {"project": "p", "token": "[scrubbed]"}
    assert TOKEN not in json.dumps(journal)
    assert set(connect) == {"seq", "time", "conn_id", "direction", "kind", "method", "id", "data"}
