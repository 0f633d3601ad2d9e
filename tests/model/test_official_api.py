"""The official API surface: ``signalwire.relay`` against ``relay_anyio`` and ``relay_trio``.

A program written for ``signalwire.relay`` should find every public name it
might touch after changing only its import line.  This test introspects the
installed official SDK (the ``conformance`` extra, ``signalwire-sdk``) and, for
``signalwire.relay`` and its submodules ``client``, ``call``, ``message``,
``event`` and ``constants``, checks the same-named module of each adapter:

* every public name exists and is the same kind (class, function, type alias,
  constant); constants have equal values;
* every public member of a class (methods, classmethods such as
  ``from_payload``, properties, dataclass fields and the attributes its
  ``__init__`` assigns) exists on ours, with the same kind (a method stays a
  method, ``async`` stays ``async``; an attribute may be a property or a slot);
* signatures are compatible: the official parameters, in order, with the same
  names, kinds and defaults; ours may only add parameters that have a default.

The differences we keep on purpose are in :data:`ALLOWED`, each with its
reason; ``docs/differences.md`` lists exactly those entries (checked below),
and an entry that no longer matches a difference fails the test, so the list
cannot go stale.  Without the official package the tests skip with a reason.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import fnmatch
import importlib
import inspect
import logging
import re
import sys
import textwrap
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(60)

try:
    import signalwire.relay
except ImportError as exc:  # pragma: no cover - depends on the environment
    pytest.skip(
        f"signalwire.relay is not importable ({exc}); install the conformance extra "
        "(pip install -e '.[conformance]', which `make test` does)",
        allow_module_level=True,
    )

SUBMODULES = ("", ".client", ".call", ".message", ".event", ".constants")
ADAPTERS = ("relay_anyio", "relay_trio")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "differences.md"

# ---------------------------------------------------------------------------
# The allow-list: every deliberate difference, keyed by the finding it excuses.
#
# A key is an fnmatch pattern over "<module>:<qualified name>: <finding>"
# strings as the comparison writes them, minus the adapter prefix, e.g.
# "call:CollectAction.pause: missing".  Keep each reason one sentence; the
# docs page repeats the key (in backticks) and the reason.
# ---------------------------------------------------------------------------
ALLOWED: dict[str, str] = {
    # We say who we are in signalwire.connect's `agent` (the server logs it);
    # claiming to be the official Python SDK would misreport the client.
    "*:AGENT_STRING: value *": "relaykit identifies itself as relaykit/<version>",
    # The core's event classes take event_type and params by position (as the
    # official ones do) and every other field by keyword: call_id is read from
    # params, so a third positional argument raises TypeError instead of
    # silently landing in the wrong field.  Programs build events with
    # from_payload() / parse_event(), which match.
    "*:*Event.__init__: positional parameters from #3 not accepted by position: *": (
        "event constructors: only event_type and params by position, the rest by keyword"
    ),
    # Actions are made by Call methods, never by programs: the terminal event
    # type and states come from the core's action table, not the constructor.
    "*:Action.__init__: positional parameters from #3 not accepted by position: *": (
        "Action(call, control_id): terminal event and states come from the core's table"
    ),
    # Ours: VolumeAction is stop + volume only, PausableAction adds pause/resume,
    # and PlayAction is both; upstream VolumeAction extends PausableAction.
    # Split so that CollectAction (volume, no pause) need not inherit a pause.
    "*:VolumeAction.pause: missing": "VolumeAction is not a PausableAction (see CollectAction)",
    "*:VolumeAction.resume: missing": "VolumeAction is not a PausableAction (see CollectAction)",
    # The official CollectAction (play_and_collect) inherits pause/resume from
    # VolumeAction, but calling.play_and_collect has no pause/resume command
    # in the server schema and the seed docs don't offer them: ours would only
    # ever get an error back, so CollectAction is not pausable.
    "*:CollectAction.pause: missing": (
        "calling.play_and_collect has no pause command (server schema, seed docs)"
    ),
    "*:CollectAction.resume: missing": (
        "calling.play_and_collect has no resume command (server schema, seed docs)"
    ),
}


# ---------------------------------------------------------------------------
# Introspection
# ---------------------------------------------------------------------------

_TYPING_NAMES = frozenset(typing.__all__) | {"annotations"}


def _kind(obj: object) -> str | None:
    """``class``/``function``/``alias``/``constant``, or None for a helper imported
    from elsewhere (``Any``, ``dataclass``, a logger, ``annotations``)."""
    if inspect.isclass(obj):
        if issubclass(obj, enum.Enum) or obj.__module__.startswith("signalwire"):
            return "class"
        return None
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function" if obj.__module__.startswith("signalwire.relay") else None
    if typing.get_origin(obj) is not None:
        return "alias"
    if isinstance(obj, (str, int, float, bool, tuple, frozenset, set, list, dict)):
        return "constant"
    if obj is None:
        return "constant"
    return None


def official_names(module: ModuleType) -> dict[str, object]:
    """The public names of an official module: its ``__all__``, else what it defines."""
    declared = getattr(module, "__all__", None)
    names = list(declared) if declared is not None else list(vars(module))
    out: dict[str, object] = {}
    for name in names:
        if name.startswith("_"):
            continue
        obj = getattr(module, name)
        if inspect.ismodule(obj) or isinstance(obj, logging.Logger):
            continue
        if declared is None and name in _TYPING_NAMES and obj is getattr(typing, name, obj):
            continue
        if declared is None and name == "TYPE_CHECKING":
            continue
        if _kind(obj) is not None:
            out[name] = obj
    return out


def _init_attributes(cls: type) -> set[str]:
    """Public ``self.<name> = ...`` targets in the ``__init__`` of *cls* and its bases."""
    found: set[str] = set()
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None or not inspect.isfunction(init):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
        except (OSError, TypeError, SyntaxError):
            continue
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                    and not target.attr.startswith("_")
                ):
                    found.add(target.attr)
    return found


def _member_kind(cls: type, name: str) -> str | None:
    """How *cls* offers *name*: ``method``, ``async method``, ``classmethod``,
    ``staticmethod``, ``attribute`` (property, slot, field, class or instance
    attribute), or None."""
    for klass in cls.__mro__:
        if name in vars(klass):
            raw = vars(klass)[name]
            if isinstance(raw, classmethod):
                return "classmethod"
            if isinstance(raw, staticmethod):
                return "staticmethod"
            if inspect.iscoroutinefunction(raw):
                return "async method"
            if inspect.isfunction(raw):
                return "method"
            return "attribute"
    if dataclasses.is_dataclass(cls) and name in {f.name for f in dataclasses.fields(cls)}:
        return "attribute"
    if name in _init_attributes(cls):
        return "attribute"
    return None


def _public_members(cls: type) -> list[str]:
    names = {n for n in dir(cls) if not n.startswith("_")}
    if dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")}
    names |= _init_attributes(cls)
    if "__init__" in vars(cls) or dataclasses.is_dataclass(cls):
        names.add("__init__")
    return sorted(names)


def _callable_of(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in vars(klass):
            raw = vars(klass)[name]
            return raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
    return None


def signature_findings(theirs: Any, ours: Any) -> list[str]:
    """Why *ours* cannot be called every way *theirs* can (empty: compatible)."""
    try:
        their_sig = inspect.signature(theirs)
        our_sig = inspect.signature(ours)
    except (TypeError, ValueError):
        return []
    findings: list[str] = []
    their_params = list(their_sig.parameters.values())
    our_params = list(our_sig.parameters.values())
    by_name = {p.name: p for p in our_params}
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    our_positional = [p for p in our_params if p.kind in positional]
    their_positional = [p for p in their_params if p.kind in positional]
    for index, param in enumerate(their_positional):
        mine = our_positional[index] if index < len(our_positional) else None
        if mine is None or (
            param.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and mine.name != param.name
        ):
            # One finding for the first position that differs (and all after it).
            rest = ", ".join(repr(p.name) for p in their_positional[index:])
            findings.append(f"positional parameters from #{index} not accepted by position: {rest}")
            break
    for param in their_params:
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            if not any(p.kind is param.kind for p in our_params):
                findings.append(f"no *{param.name}")
            continue
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            if not any(p.kind is param.kind for p in our_params):
                findings.append(f"no **{param.name}")
            continue
        mine = by_name.get(param.name)
        if mine is None:
            if param.kind is inspect.Parameter.KEYWORD_ONLY:
                findings.append(f"keyword parameter {param.name!r} missing")
            continue
        if param.kind is not inspect.Parameter.POSITIONAL_ONLY and mine.kind not in (
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        ):
            findings.append(f"parameter {param.name!r} is not accepted by keyword")
        if param.default is not inspect.Parameter.empty:
            if mine.default is inspect.Parameter.empty:
                findings.append(f"parameter {param.name!r} has no default")
            elif not _same_default(param.default, mine.default):
                findings.append(
                    f"parameter {param.name!r} default {mine.default!r} != {param.default!r}"
                )
    their_names = {p.name for p in their_params}
    for mine in our_params:
        if (
            mine.name not in their_names
            and mine.default is inspect.Parameter.empty
            and mine.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        ):
            findings.append(f"extra required parameter {mine.name!r}")
    return findings


def _same_default(theirs: object, ours: object) -> bool:
    try:
        return bool(theirs == ours) and type(theirs) is type(ours)
    except Exception:  # pragma: no cover - an exotic default
        return theirs is ours


def class_findings(theirs: type, ours: type, qual: str) -> list[str]:
    findings: list[str] = []
    for name in _public_members(theirs):
        their_kind = "method" if name == "__init__" else _member_kind(theirs, name)
        if their_kind is None:
            continue
        our_kind = "method" if name == "__init__" else _member_kind(ours, name)
        where = f"{qual}.{name}"
        if our_kind is None:
            findings.append(f"{where}: missing")
            continue
        if our_kind != their_kind:
            findings.append(f"{where}: is {our_kind}, official is {their_kind}")
            continue
        if their_kind == "attribute":
            continue
        for problem in signature_findings(_callable_of(theirs, name), _callable_of(ours, name)):
            findings.append(f"{where}: {problem}")
    return findings


def compare(module_suffix: str, adapter: str) -> list[str]:
    """Every finding for one official module against one adapter's module."""
    theirs = importlib.import_module("signalwire.relay" + module_suffix)
    label = module_suffix.lstrip(".") or "relay"
    try:
        ours = importlib.import_module(adapter + module_suffix)
    except ImportError:
        return [f"{label}: module missing"]
    findings: list[str] = []
    for name, obj in official_names(theirs).items():
        where = f"{label}:{name}"
        if not hasattr(ours, name):
            findings.append(f"{where}: missing")
            continue
        mine = getattr(ours, name)
        their_kind, our_kind = _kind(obj), _kind_ours(mine)
        if their_kind != our_kind:
            findings.append(f"{where}: is {our_kind}, official is {their_kind}")
            continue
        if their_kind == "constant":
            findings += [f"{where}: {p}" for p in constant_findings(obj, mine, ours)]
        elif their_kind == "function":
            if inspect.iscoroutinefunction(obj) != inspect.iscoroutinefunction(mine):
                findings.append(f"{where}: async-ness differs")
            findings += [f"{where}: {p}" for p in signature_findings(obj, mine)]
        elif their_kind == "class":
            assert isinstance(obj, type)
            assert isinstance(mine, type)
            findings += class_findings(obj, mine, where)
    return findings


def constant_findings(theirs: object, mine: object, our_module: ModuleType) -> list[str]:
    """Equal values; a map to official classes (``EVENT_CLASS_MAP``) must map every
    official key to our class of the same name (ours may map more keys)."""
    if isinstance(theirs, dict) and theirs and all(inspect.isclass(v) for v in theirs.values()):
        if not isinstance(mine, dict):
            return [f"is {type(mine).__name__}, official is a dict"]
        findings = []
        for key, cls in theirs.items():
            expected = getattr(our_module, cls.__name__, None)
            if key not in mine:
                findings.append(f"key {key!r} missing")
            elif mine[key] is not expected:
                findings.append(f"{key!r} maps to {mine[key].__name__}, not {cls.__name__}")
        return findings
    if mine != theirs:
        return [f"value {mine!r} != {theirs!r}"]
    return []


def _kind_ours(obj: object) -> str | None:
    if inspect.isclass(obj):
        return "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function"
    if typing.get_origin(obj) is not None:
        return "alias"
    if obj is None or isinstance(obj, (str, int, float, bool, tuple, frozenset, set, list, dict)):
        return "constant"
    return None


def all_findings() -> list[str]:
    """Every finding, adapter-independent (``relay_anyio`` and ``relay_trio`` must agree)."""
    found: set[str] = set()
    for adapter in ADAPTERS:
        for suffix in SUBMODULES:
            found |= {finding for finding in compare(suffix, adapter)}
    return sorted(found)


def _allowed_by(finding: str) -> str | None:
    for pattern in ALLOWED:
        if fnmatch.fnmatchcase(finding, pattern):
            return pattern
    return None


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


def test_the_comparison_sees_the_official_surface() -> None:
    # A guard against an introspection that silently finds nothing to compare.
    names = official_names(importlib.import_module("signalwire.relay"))
    assert {"RelayClient", "Call", "Message", "PlayAction", "CallStateEvent"} <= set(names)
    if sys.version_info >= (3, 11):  # 3.10's typing aliases are not seen as names there
        assert "CallHandler" in official_names(importlib.import_module("signalwire.relay.client"))
    call_members = _public_members(signalwire.relay.Call)
    assert {"play", "record", "call_id", "__init__"} <= set(call_members)
    assert "from_payload" in _public_members(signalwire.relay.PlayEvent)


def test_the_comparison_reports_differences() -> None:
    def official(a: int, b: str = "x", *, c: float = 1.0) -> None: ...

    def renamed(a: int, bb: str = "x", *, c: float = 1.0) -> None: ...

    def keyword_only(a: int, *, b: str = "x", c: float = 1.0) -> None: ...

    def other_default(a: int, b: str = "y", *, c: float = 1.0) -> None: ...

    def extra_required(a: int, b: str = "x", *, c: float = 1.0, d: int) -> None: ...

    def extended(a: int, b: str = "x", e: int = 0, *, c: float = 1.0, d: int = 2) -> None: ...

    assert signature_findings(official, official) == []
    assert signature_findings(official, extended) == []
    assert signature_findings(official, renamed) == [
        "positional parameters from #1 not accepted by position: 'b'"
    ]
    assert signature_findings(official, keyword_only) == [
        "positional parameters from #1 not accepted by position: 'b'"
    ]
    assert signature_findings(official, other_default) == ["parameter 'b' default 'y' != 'x'"]
    assert signature_findings(official, extra_required) == ["extra required parameter 'd'"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_adapters_agree(adapter: str) -> None:
    other = ADAPTERS[1 - ADAPTERS.index(adapter)]
    for suffix in SUBMODULES:
        assert compare(suffix, adapter) == compare(suffix, other), suffix or "relay"


def test_official_surface_matches_but_for_the_allow_list() -> None:
    unexplained = [f for f in all_findings() if _allowed_by(f) is None]
    assert unexplained == [], "\n".join(unexplained)


def test_every_allow_list_entry_is_still_needed() -> None:
    used = {_allowed_by(f) for f in all_findings()}
    stale = [pattern for pattern in ALLOWED if pattern not in used]
    assert stale == [], f"allow-list entries that match no difference any more: {stale}"


def test_differences_page_lists_the_allow_list() -> None:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("<!-- allow-list -->")
    assert len(section) == 3, "docs/differences.md: put the table between two <!-- allow-list -->"
    rows = [line for line in section[1].splitlines() if line.startswith("| `")]
    documented = {re.match(r"\| `([^`]+)`", row).group(1) for row in rows}  # type: ignore[union-attr]
    assert documented == set(ALLOWED), (
        f"on the page only: {sorted(documented - set(ALLOWED))}; "
        f"in ALLOWED only: {sorted(set(ALLOWED) - documented)}"
    )


def test_class_comparison_reports_members() -> None:
    class Official:
        def __init__(self, name: str) -> None:
            self.name = name
            self.state = ""

        async def wait(self, timeout: float | None = None) -> None: ...

        @classmethod
        def build(cls, payload: dict[str, Any]) -> Official:
            return cls("x")

    class Same(Official):
        pass

    class Lacking:
        def __init__(self, name: str) -> None:
            self.name = name

        def wait(self, timeout: float | None = 1.0) -> None: ...

    assert class_findings(Official, Same, "m:C") == []
    assert class_findings(Official, Lacking, "m:C") == [
        "m:C.build: missing",
        "m:C.state: missing",
        "m:C.wait: is method, official is async method",
    ]


# ---------------------------------------------------------------------------
# Behaviour the official client has and introspection cannot see
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.anyio
async def test_hand_built_message_wait_times_out(adapter: str) -> None:
    # The official Message.wait(timeout) raises (asyncio.)TimeoutError once the
    # timeout passes; a Message built by hand can never complete, so ours says
    # so at once with the same exception type.
    message = importlib.import_module(adapter).Message(message_id="m-1")
    with pytest.raises(TimeoutError, match="not attached to a RelayClient"):
        await message.wait(timeout=0.5)
    # Without a timeout the official one waits forever; ours refuses to hang.
    with pytest.raises(RuntimeError, match="would wait forever"):
        await message.wait()


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    import trio.testing

    return ("trio", {"clock": trio.testing.MockClock(autojump_threshold=0)})


DEVICE_TO = "+15550001234"


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.anyio
async def test_dial_errors_start_with_the_official_wording(adapter: str) -> None:
    # Programs match on the official messages (client.py: "Dial failed
    # (tag=...)", "Dial timed out waiting for answer (tag=...)"); relaykit's
    # detail (the reason, the limit) follows after a colon.
    from relaykit.testing import client_options, open_emulator

    module = importlib.import_module(adapter)
    device = {"type": "phone", "params": {"to_number": DEVICE_TO, "from_number": "+15551230000"}}
    async with (
        open_emulator(project="p", token="t") as emu,
        module.RelayClient(project="p", token="t", **client_options(emu)) as client,
    ):
        emu.configure_number(DEVICE_TO, "busy", answer_after=1.0)
        with pytest.raises(module.RelayError) as failed:
            await client.dial([[device]], tag="t-busy", dial_timeout=30)
        assert failed.value.message.startswith("Dial failed (tag=t-busy)")
        assert "busy" in failed.value.message
        assert str(failed.value).startswith("RELAY error -1: Dial failed (tag=t-busy)")

        emu.configure_number(DEVICE_TO, "answer", answer_after=1e6)
        slow = {**device, "params": {**device["params"], "timeout": 1e6}}
        with pytest.raises(TimeoutError) as timed_out:
            await client.dial([[slow]], tag="t-slow", dial_timeout=5)
        assert isinstance(timed_out.value, module.RelayError)
        assert timed_out.value.message.startswith("Dial timed out waiting for answer (tag=t-slow)")
        assert "5" in timed_out.value.message
