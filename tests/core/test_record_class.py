"""record_class: the core's cheap stand-in for ``@dataclass(frozen=True, slots=True, ...)``.

The core's own events (``relay_proto._events``, ``relay_proto._ws``) are built
with it to save import time; these tests hold it to the dataclass behaviour
those classes had, so that nothing a program or the core relied on changed.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from collections.abc import Mapping
from typing import Any

import pytest

import relay_proto
from relay_proto._event_base import Event, record_class
from relay_proto._ws import WsClosed, WsDead, WsOpened


@record_class(frozen=True, slots=True, kw_only=True)
class Sample(Event):
    name: str
    result: Mapping[str, Any]
    count: int = 0
    flag: bool = True


@record_class(frozen=True, slots=True)
class Positional:
    code: int
    reason: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Reference(Event):
    name: str
    result: Mapping[str, Any]
    count: int = 0
    flag: bool = True


def test_construction_is_keyword_only_with_defaults() -> None:
    event = Sample(name="a", result={"x": 1})
    assert (event.name, event.result, event.count, event.flag) == ("a", {"x": 1}, 0, True)
    assert Sample(name="a", result={}, count=3).count == 3
    with pytest.raises(TypeError):
        Sample("a", {})  # type: ignore[misc]
    with pytest.raises(TypeError, match="result"):
        Sample(name="a")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="other"):
        Sample(name="a", result={}, other=1)  # type: ignore[call-arg]


def test_positional_records_take_fields_in_order() -> None:
    assert (Positional(1000, "bye").code, Positional(1000).reason) == (1000, "")
    assert Positional.__match_args__ == ("code", "reason")
    assert Sample.__match_args__ == ()
    with pytest.raises(TypeError, match="follows a default"):

        @record_class(frozen=True, slots=True)
        class Bad:
            a: int = 0
            b: int


def test_repr_eq_hash_match_a_dataclass() -> None:
    ours = Sample(name="a", result={}, count=2)
    ref = Reference(name="a", result={}, count=2)
    assert repr(ours) == repr(ref).replace("Reference", "Sample")
    assert ours == Sample(name="a", result={}, count=2)
    assert ours != Sample(name="a", result={}, count=3)
    assert ours != ref  # same fields, another class: not equal, as for dataclasses
    assert hash(WsDead("x")) == hash(WsDead("x"))
    assert {WsOpened(), WsOpened()} == {WsOpened()}
    assert repr(WsClosed(1000, "")) == "WsClosed(code=1000, reason='')"


def test_frozen_and_slotted() -> None:
    event = Sample(name="a", result={})
    assert not hasattr(event, "__dict__")
    assert Sample.__slots__ == ("name", "result", "count", "flag")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.name = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.other = 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del event.name  # type: ignore[misc]
    assert isinstance(event, Event)
    assert Sample.__qualname__ == "Sample"


def test_copy_and_pickle_round_trip() -> None:
    event = relay_proto.RequestFailed(request_id="1", method="m", code=404, message="gone")
    assert copy.copy(event) == event
    assert copy.deepcopy(event) == event
    assert pickle.loads(pickle.dumps(event)) == event
    assert pickle.loads(pickle.dumps(WsDead("eof"))) == WsDead("eof")


def test_the_first_instance_installs_a_compiled_init() -> None:
    @record_class(frozen=True, slots=True, kw_only=True)
    class Fresh:
        a: int
        b: str = "x"

    first = Fresh.__init__
    assert Fresh(a=1).b == "x"
    assert Fresh.__init__ is not first  # compiled for the class, once
    compiled = Fresh.__init__
    assert Fresh(a=2, b="y").b == "y"
    assert Fresh.__init__ is compiled
    assert compiled.__qualname__.endswith("Fresh.__init__")


def test_only_frozen_slotted_records() -> None:
    with pytest.raises(TypeError, match="frozen, slotted"):
        record_class(frozen=False, slots=True)


def _record_classes() -> list[type]:
    import relay_proto._events
    import relay_proto._ws

    return [
        value
        for module in (relay_proto._events, relay_proto._ws)
        for value in vars(module).values()
        if isinstance(value, type) and "__record_fields__" in value.__dict__
    ]


def test_the_core_has_record_classes_to_check() -> None:
    names = {cls.__name__ for cls in _record_classes()}
    assert {"WsOpened", "WsClosed"} <= names
    assert len(names) >= 15


@pytest.mark.parametrize("cls", _record_classes(), ids=lambda cls: cls.__qualname__)
def test_every_core_record_class_is_a_dataclass_to_the_dataclasses_module(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    assert tuple(f.name for f in dataclasses.fields(cls)) == cls.__record_fields__  # type: ignore[attr-defined]
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_fields_asdict_replace_and_subclassing_match_a_dataclass() -> None:
    event = Sample(name="a", result={"x": 1}, count=2)
    reference = Reference(name="a", result={"x": 1}, count=2)
    assert [(f.name, f.type, f.default, f.kw_only) for f in dataclasses.fields(Sample)] == [
        (f.name, f.type, f.default, f.kw_only) for f in dataclasses.fields(Reference)
    ]
    assert dataclasses.asdict(event) == dataclasses.asdict(reference)
    assert dataclasses.astuple(Positional(1, "x")) == (1, "x")
    changed = dataclasses.replace(event, count=5)
    assert (type(changed), changed.count, changed.name) == (Sample, 5, "a")
    assert dataclasses.replace(Positional(1, "x"), reason="y") == Positional(1, "y")

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Extended(Sample):
        more: int = 9

    extended = Extended(name="b", result={}, more=3)
    assert [f.name for f in dataclasses.fields(Extended)] == [
        "name",
        "result",
        "count",
        "flag",
        "more",
    ]
    assert (extended.name, extended.count, extended.more) == ("b", 0, 3)
