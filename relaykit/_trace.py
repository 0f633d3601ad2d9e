"""``relaykit trace``: a journal of RELAY frames drawn as a sequence diagram.

Reads a JSONL journal (one :class:`~relaykit.emulator.JournalEntry` per line, as
:func:`dump_journal` writes it: ``seq, time, conn_id, direction, kind, method,
id, data``) and writes one self-contained HTML file: per call, a summary and an
inline SVG with three lanes (the program, RELAY, the caller), every frame an
arrow in journal order, failures in red, the frame's JSON (credentials scrubbed)
as each arrow's hover title.  No script, no external CSS, fonts or images.

    relaykit trace session.jsonl -o call.html [--call CALL_ID] [--title TEXT]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from relaykit._trace_model import (
    CALLER,
    PROGRAM,
    RELAY,
    Arrow,
    Group,
    Problem,
    Trace,
    build_trace,
    parse_jsonl,
    scrub,
)

if TYPE_CHECKING:
    from relaykit.emulator import JournalEntry

__all__ = ["add_parser", "dump_journal", "render_html", "run"]

RED = "#d32f2f"
#: category -> (colour, dashed, description for the legend)
STYLES: dict[str, tuple[str, bool, str]] = {
    "command": ("#1565c0", False, "command (program → RELAY request)"),
    "result": ("#2e7d32", False, "result (RELAY's response)"),
    "event": ("#6a1b9a", False, "event (signalwire.event)"),
    "ack": ("#9e9e9e", True, "ACK of an event"),
    "server": ("#00838f", False, "RELAY request (ping, disconnect)"),
    "reply": ("#78909c", True, "program's reply to it"),
    "caller": ("#ef6c00", True, "caller side, derived from an event (not a frame)"),
    "invalid": (RED, False, "invalid or injected raw frame"),
}
LANES = (
    (PROGRAM, "program", "RELAY client"),
    (RELAY, "RELAY", "server"),
    (CALLER, "caller", "far end"),
)
LANE_X = {PROGRAM: 170, RELAY: 540, CALLER: 880}
WIDTH = 1010
TOP = 64  # first row's baseline
ROW, ACK_ROW = 30, 20
MAX_TITLE = 6000  # characters of JSON in one hover title
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _esc(text: object) -> str:
    """Text safe in HTML and in XML (SVG): escaped, no characters XML forbids."""
    return html.escape(_INVALID_XML.sub("\ufffd", str(text)), quote=True)


def _fit(text: str, width: float, size: float = 12.0) -> str:
    limit = max(8, int(width / (size * 0.56)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------- SVG
def _arrow_svg(arrow: Arrow, y: float, t0: float | None) -> str:
    colour, dashed, _ = STYLES[arrow.category]
    if arrow.failed:
        colour = RED
    x1, x2 = LANE_X[arrow.source], LANE_X[arrow.target]
    step = ACK_ROW if arrow.category == "ack" else ROW
    head = -9 if x2 > x1 else 9
    width = 2.4 if arrow.failed else (1 if arrow.category == "ack" else 1.6)
    size = 10.5 if arrow.category == "ack" else 12.0
    classes = f"arrow {arrow.category}" + (" fail" if arrow.failed else "")
    attrs = {
        "class": classes,
        "data-category": arrow.category,
        "data-source": arrow.source,
        "data-target": arrow.target,
        "data-seq": "" if arrow.seq is None else str(arrow.seq),
        "data-call": arrow.call_id or "",
        "data-conn": str(arrow.conn_id),
        "data-failed": "true" if arrow.failed else "false",
        "data-derived": "true" if arrow.derived else "false",
    }
    detail = arrow.detail if len(arrow.detail) <= MAX_TITLE else arrow.detail[:MAX_TITLE] + "\n…"
    joined = " ".join(f'{key}="{_esc(value)}"' for key, value in attrs.items())
    parts = [f"<g {joined}>"]
    parts.append(f"<title>{_esc(detail)}</title>")
    parts.append(
        f'<rect class="hit" x="0" y="{y - step + 6:.0f}" width="{WIDTH}" height="{step}"'
        ' fill="#000" fill-opacity="0"/>'
    )
    if arrow.time is not None and t0 is not None and arrow.category != "ack":
        parts.append(f'<text class="time" x="6" y="{y + 3:.0f}">+{arrow.time - t0:.3f} s</text>')
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    parts.append(
        f'<line x1="{x1}" y1="{y:.0f}" x2="{x2 + head}" y2="{y:.0f}" stroke="{colour}"'
        f' stroke-width="{width}"{dash}/>'
    )
    parts.append(
        f'<polygon points="{x2},{y:.0f} {x2 + head},{y - 4:.0f} {x2 + head},{y + 4:.0f}"'
        f' fill="{colour}"/>'
    )
    label = _fit(arrow.label, abs(x2 - x1) - 16, size)
    weight = ' font-weight="bold"' if arrow.failed else ""
    parts.append(
        f'<text class="label" x="{(x1 + x2) / 2:.0f}" y="{y - 5:.0f}" text-anchor="middle"'
        f' font-size="{size}" fill="{colour}"{weight}>{_esc(label)}</text>'
    )
    parts.append("</g>")
    return "".join(parts)


def _group_svg(group: Group, t0: float | None) -> str:
    ys: list[float] = []
    y = float(TOP)
    for arrow in group.arrows:
        y += ACK_ROW if arrow.category == "ack" else ROW
        ys.append(y)
    height = y + 24
    name = group.call_id or "session"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" width="{WIDTH}"'
        f' height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}" role="img"'
        f' aria-label="{_esc("sequence diagram of " + name)}"'
        ' font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">'
    ]
    for lane, name_, role in LANES:
        x = LANE_X[lane]
        out.append(
            f'<g class="lane" data-lane="{lane}">'
            f'<line x1="{x}" y1="44" x2="{x}" y2="{height - 8:.0f}" stroke="#b0bec5"'
            ' stroke-dasharray="2 3"/>'
            f'<rect x="{x - 80}" y="6" width="160" height="38" rx="5" fill="#eceff1"'
            ' stroke="#90a4ae"/>'
            f'<text x="{x}" y="22" text-anchor="middle" font-size="13" font-weight="bold">'
            f"{_esc(name_)}</text>"
            f'<text x="{x}" y="37" text-anchor="middle" font-size="11" fill="#546e7a">'
            f"{_esc(role)}</text></g>"
        )
    for arrow, row_y in zip(group.arrows, ys, strict=True):
        out.append(_arrow_svg(arrow, row_y, t0))
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------- HTML
CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 16px 24px; color: #263238; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 22px 0 6px; }
p.meta, p.note { color: #546e7a; font-size: 13px; margin: 2px 0; }
ul.legend { list-style: none; padding: 0; margin: 8px 0; display: flex; flex-wrap: wrap;
            gap: 4px 18px; font-size: 12px; }
ul.legend li { display: flex; align-items: center; gap: 6px; }
table.summary { border-collapse: collapse; font-size: 13px; margin: 4px 0 8px; }
table.summary th { text-align: left; color: #546e7a; font-weight: normal; padding: 1px 12px 1px 0;
                   vertical-align: top; }
table.summary td { padding: 1px 0; }
.failed { color: #d32f2f; font-weight: bold; }
section.problems { border-left: 4px solid #d32f2f; padding: 2px 10px; margin: 8px 0;
                   font-size: 13px; }
svg.diagram { display: block; border: 1px solid #eceff1; }
svg.diagram text.time { font-size: 10px; fill: #78909c; font-family: ui-monospace, monospace; }
svg.diagram g.arrow:hover rect.hit { fill-opacity: 0.06; }
"""


def _legend() -> str:
    items = []
    for category, (colour, dashed, text) in [*STYLES.items(), ("fail", (RED, False, ""))]:
        if category == "invalid":
            continue
        if category == "fail":
            text = "failure: error response, non-2xx code, error/failed state or end reason"
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        stroke = 2.4 if category == "fail" else 1.6
        items.append(
            f'<li data-category="{category}"><svg xmlns="http://www.w3.org/2000/svg" width="38"'
            f' height="10"><line x1="1" y1="5" x2="30" y2="5" stroke="{colour}"'
            f' stroke-width="{stroke}"{dash}/><polygon points="37,5 29,1 29,9" fill="{colour}"/>'
            f"</svg>{_esc(text)}</li>"
        )
    return '<ul class="legend">' + "".join(items) + "</ul>"


def _summary(group: Group) -> str:
    rows: list[tuple[str, str]] = []
    if group.call_id is not None:
        rows.append(("Call", _esc(group.call_id)))
        if group.direction:
            rows.append(("Direction", _esc(group.direction)))
        if group.from_number or group.to_number:
            who = f"{group.from_number or '?'} → {group.to_number or '?'}"
            rows.append(("From → to", _esc(who)))
        if group.context:
            rows.append(("Context", _esc(group.context)))
    counts = ", ".join(
        f"{group.count(c)} {c}{'s' if group.count(c) != 1 else ''}"
        for c in ("command", "result", "event", "ack", "server", "reply", "invalid")
        if group.count(c)
    )
    rows.append(("Frames", _esc(counts or "none")))
    if group.duration is not None:
        rows.append(("Duration", f"{group.duration:.3f} s"))
    if group.call_id is not None:
        outcome = group.last_state or "?"
        if group.end_reason:
            outcome += f", end_reason {group.end_reason}"
        if group.ended_by:
            outcome += f", ended by {group.ended_by}"
        rows.append(("Outcome", _esc(outcome)))
    failures = group.failures
    if failures:
        listed = "<br>".join(
            _esc(f"seq {a.seq}: {a.label}" if a.seq is not None else a.label) for a in failures
        )
        rows.append(("Failures", f'<span class="failed">{len(failures)}</span><br>{listed}'))
    else:
        rows.append(("Failures", "none"))
    if group.unanswered:
        rows.append(("No answer in the journal", _esc(", ".join(group.unanswered))))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="summary">{body}</table>'


def _problems_html(problems: list[Problem], unit: str) -> str:
    if not problems:
        return ""
    items = "".join(f"<li>{unit} {p.where}: {_esc(p.message)}</li>" for p in problems)
    return (
        f'<section class="problems"><strong>{len(problems)} skipped'
        f" {'entries' if unit == 'entry' else 'lines'}</strong><ul>{items}</ul></section>"
    )


def _page(trace: Trace, groups: list[Group], title: str, problems: list[Problem], unit: str) -> str:
    times = [a.time for g in trace.groups for a in g.arrows if a.time is not None]
    t0 = min(times) if times else None
    calls = sum(1 for g in trace.groups if g.call_id is not None)
    meta = f"Journal: {trace.frames} frames, {calls} call{'s' if calls != 1 else ''}"
    if len(trace.conn_ids) > 1:
        meta += f", {len(trace.conn_ids)} connections"
    if len(groups) == 1 and groups[0].call_id is not None and len(trace.groups) > 1:
        meta += f" (showing {groups[0].call_id})"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="meta">{_esc(meta)}; times from the first frame. Hover an arrow for its'
        " frame (credentials scrubbed).</p>",
        '<p class="note">The journal holds no frame of the far end: the caller lane is derived'
        " from the events that report what the caller did.</p>",
        _legend(),
        _problems_html(problems, unit),
    ]
    if not groups:
        out.append('<p class="note">No frames to draw.</p>')
    for group in groups:
        anchor = group.call_id or "session"
        heading = f"Call {group.call_id}" if group.call_id else "Session (frames of no call)"
        if group.call_id and group.from_number:
            heading += f" — {group.direction or 'call'} {group.from_number} → {group.to_number}"
        out.append(
            f'<section class="group" id="{_esc(anchor)}" data-call="{_esc(group.call_id or "")}">'
        )
        out.append(f"<h2>{_esc(heading)}</h2>")
        out.append(_summary(group))
        out.append(_group_svg(group, t0))
        out.append("</section>")
    out.append("</body></html>\n")
    return "\n".join(out)


def render_html(entries: Iterable[Mapping[str, Any]], *, title: str) -> str:
    """The whole HTML page for *entries* (journal entries as mappings, in journal order).

    Entries of an unknown shape are skipped and listed at the top of the page.
    """
    trace = build_trace(entries)
    return _page(trace, trace.groups, title, trace.problems, "entry")


# --------------------------------------------------------------------- journal files
def dump_journal(entries: Iterable[JournalEntry], out: TextIO) -> int:
    """Write emulator journal entries as JSONL (credentials scrubbed); returns the count.

    ``dump_journal(emu.journal(), file)`` makes the file ``relaykit trace`` reads.
    """
    count = 0
    for entry in entries:
        record = asdict(entry)
        record["data"] = scrub(record["data"])
        out.write(json.dumps(record, ensure_ascii=False, default=repr) + "\n")
        count += 1
    return count


# --------------------------------------------------------------------- CLI
def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``trace`` on the ``relaykit`` command's subparsers."""
    parser = subparsers.add_parser(
        "trace",
        help="draw a JSONL journal as a sequence diagram (HTML)",
        description="Draw a recorded or emulated RELAY session (a JSONL journal) as a"
        " self-contained HTML sequence diagram, one section per call.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("journal", metavar="JOURNAL", help="JSONL journal file, or - for stdin")
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        help="HTML file to write, - for stdout (default: JOURNAL with .html; stdout for -)",
    )
    parser.add_argument("--call", default=None, metavar="CALL_ID", help="draw only this call")
    parser.add_argument("--title", default=None, help="page title (default: the journal's name)")
    parser.set_defaults(func=run)


def _read(path: str) -> list[bytes]:
    if path == "-":
        return sys.stdin.buffer.read().splitlines()
    return Path(path).read_bytes().splitlines()


def run(args: argparse.Namespace) -> int:
    """``relaykit trace``: 0 written, 2 on an unreadable/empty journal or unknown call."""
    source: str = args.journal
    name = "<stdin>" if source == "-" else source
    try:
        lines = _read(source)
    except OSError as exc:
        print(f"relaykit trace: cannot read {name}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    entries, numbers, problems = parse_jsonl(lines)
    trace = build_trace(entries, numbers)
    problems = sorted([*problems, *trace.problems], key=lambda p: p.where)
    for problem in problems:
        print(f"{name}:{problem.where}: skipped: {problem.message}", file=sys.stderr)
    if trace.frames == 0:
        why = f" ({len(problems)} line(s) skipped)" if problems else ""
        print(f"relaykit trace: {name} has no journal entries to draw{why}", file=sys.stderr)
        return 2
    groups = trace.groups
    if args.call is not None:
        group = trace.group(args.call)
        if group is None:
            known = ", ".join(g.call_id for g in trace.groups if g.call_id) or "none"
            print(
                f"relaykit trace: no call {args.call!r} in {name} (calls: {known})", file=sys.stderr
            )
            return 2
        groups = [group]
    title = args.title or (
        f"relaykit trace: {Path(name).name}" + (f" — {args.call}" if args.call else "")
    )
    page = _page(trace, groups, title, problems, "line")
    output = args.output
    if output is None:
        output = "-" if source == "-" else str(Path(source).with_suffix(".html"))
    calls = sum(1 for g in groups if g.call_id is not None)
    done = f"relaykit trace: {trace.frames} frames, {calls} call(s)"
    if output == "-":
        sys.stdout.write(page)
        print(done, file=sys.stderr)
        return 0
    try:
        Path(output).write_text(page, encoding="utf-8")
    except OSError as exc:
        print(f"relaykit trace: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"{done} -> {output}")
    return 0
