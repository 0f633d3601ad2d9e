"""The :class:`Event` and :class:`RelayEvent` bases and the tolerant readers they share.

Every RELAY event class (``_relay_events.py``, ``_action_events.py``) sits on
:class:`RelayEvent`.  The readers here never raise on the server's input: a
field of the wrong type reads as its empty default.  The corpus of public frames
(``tests/core/data/wire-corpus``) shows numbers sent as strings (``"pages":
"1"``, ``"port": "1234"``, ``"timestamp": "1620984182.57"``), so the numeric
readers accept numeric strings too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import (  # type: ignore[attr-defined]
    _FIELD,
    KW_ONLY,
    Field,
    FrozenInstanceError,
    dataclass,
    field,
)
from typing import Any, Final, TypeVar

__all__ = ["Event", "FallbackDict", "RelayEvent", "record_class"]

_EMPTY: Final[Mapping[str, Any]] = {}
_E = TypeVar("_E", bound="RelayEvent")
_T = TypeVar("_T")


class Event:
    """Base class of every event the core emits."""

    __slots__ = ()


# ---------------------------------------------------------------------------
# Record classes for less than @dataclass costs at import.
# ---------------------------------------------------------------------------


def record_class(
    *, frozen: bool, slots: bool, kw_only: bool = False
) -> Callable[[type[_T]], type[_T]]:
    """``@dataclass(frozen=True, slots=True[, kw_only=True])`` at a fraction of its import cost.

    Modules import it under the name ``dataclass`` only when not type
    checking (``if TYPE_CHECKING: from dataclasses import dataclass``), so
    that type checkers see exactly the dataclass they would see otherwise.
    At run time the class gets the same behaviour: ``__slots__`` of its
    annotated fields (defaults allowed), an ``__init__`` taking them
    (keyword-only with *kw_only*), and the ``__repr__``, ``__eq__`` (same
    class only), ``__hash__``, ``__match_args__`` and ``__reduce__`` (copy,
    pickle) of a frozen dataclass, whose ``__setattr__``/``__delattr__``
    raise :class:`dataclasses.FrozenInstanceError`.  The class is a dataclass
    to the :mod:`dataclasses` module too: it carries the same
    ``__dataclass_fields__`` and ``__dataclass_params__`` (built from
    :func:`dataclasses.field` objects), so ``is_dataclass``, ``fields``,
    ``asdict``, ``astuple`` and ``replace`` work on it, and a real dataclass
    may subclass it.

    Why: ``@dataclass`` compiles six methods per class with ``exec``, about
    a millisecond of import time each class; the core defines many small
    event classes.  Here the methods are shared functions, except
    ``__init__``, which is compiled for its class on the class's first
    instantiation (so its speed is the dataclass's).
    """
    if not (frozen and slots):
        raise TypeError("record_class makes frozen, slotted classes only")

    def build(cls: type[_T]) -> type[_T]:
        return _build_record(cls, kw_only)

    return build


def _build_record(cls: type[_T], kw_only: bool) -> type[_T]:
    namespace = dict(cls.__dict__)
    names = tuple(namespace.get("__annotations__", {}))
    defaults = {name: namespace.pop(name) for name in names if name in namespace}
    if not kw_only:
        after_default = False
        for name in names:
            if name in defaults:
                after_default = True
            elif after_default:
                raise TypeError(f"non-default field {name!r} follows a default field")
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__slots__"] = names
    namespace["__record_fields__"] = names
    namespace["__match_args__"] = () if kw_only else names
    namespace["__init__"] = _first_init(names, defaults, kw_only)
    namespace["__repr__"] = _record_repr
    namespace["__eq__"] = _record_eq
    namespace["__hash__"] = _record_hash
    namespace["__setattr__"] = _record_setattr
    namespace["__delattr__"] = _record_delattr
    namespace["__reduce__"] = _record_reduce
    namespace["__dataclass_fields__"] = _dataclass_fields(namespace, names, defaults, kw_only)
    namespace["__dataclass_params__"] = _FROZEN_PARAMS
    metaclass: Any = type(cls)
    built: type[_T] = metaclass(cls.__name__, cls.__bases__, namespace)
    built.__qualname__ = cls.__qualname__
    return built


@dataclass(frozen=True)
class _FrozenReference:
    """Only lends its ``__dataclass_params__`` (eq, frozen) to record classes."""


_FROZEN_PARAMS: Final = _FrozenReference.__dataclass_params__  # type: ignore[attr-defined]


def _dataclass_fields(
    namespace: Mapping[str, Any], names: tuple[str, ...], defaults: dict[str, Any], kw_only: bool
) -> dict[str, Field[Any]]:
    """The ``__dataclass_fields__`` that ``@dataclass`` would give the class."""
    annotations = namespace.get("__annotations__", {})
    built: dict[str, Field[Any]] = {}
    for name in names:
        f: Field[Any] = (
            field(default=defaults[name], kw_only=kw_only)
            if name in defaults
            else field(kw_only=kw_only)
        )
        f.name = name
        f.type = annotations[name]
        f._field_type = _FIELD  # type: ignore[attr-defined]  # what @dataclass marks a field with
        built[name] = f
    return built


def _first_init(
    names: tuple[str, ...], defaults: dict[str, Any], kw_only: bool
) -> Callable[..., None]:
    """An ``__init__`` that compiles the class's real one, installs it, and runs it."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        owner = next(c for c in type(self).__mro__ if "__record_fields__" in c.__dict__)
        init = _compile_init(owner.__qualname__, names, defaults, kw_only)
        type.__setattr__(owner, "__init__", init)
        init(self, *args, **kwargs)

    return __init__


def _compile_init(
    qualname: str, names: tuple[str, ...], defaults: dict[str, Any], kw_only: bool
) -> Callable[..., None]:
    params = ", ".join(f"{n}=_default_{n}" if n in defaults else n for n in names)
    star = "*, " if kw_only and names else ""
    body = "".join(f"    _set(self, {n!r}, {n})\n" for n in names) or "    pass\n"
    source = f"def __init__(self, {star}{params}):\n{body}"
    scope: dict[str, Any] = {"_set": object.__setattr__}
    scope.update({f"_default_{n}": value for n, value in defaults.items()})
    exec(source, scope)  # the source is made of the class's own field names only
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{qualname}.__init__"
    return init


def _record_repr(self: Any) -> str:
    fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__record_fields__)
    return f"{type(self).__qualname__}({fields})"


def _record_values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, n) for n in self.__record_fields__)


def _record_eq(self: Any, other: object) -> Any:
    if other.__class__ is self.__class__:
        return _record_values(self) == _record_values(other)
    return NotImplemented


def _record_hash(self: Any) -> int:
    return hash(_record_values(self))


def _record_setattr(self: Any, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _record_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _record_reduce(self: Any) -> tuple[Any, ...]:
    return (_rebuild_record, (type(self), {n: getattr(self, n) for n in self.__record_fields__}))


def _rebuild_record(cls: type[_T], values: dict[str, Any]) -> _T:
    return cls(**values)


# ---------------------------------------------------------------------------
# Tolerant, allocation-free reads from raw params.
# ---------------------------------------------------------------------------


def _str(params: Mapping[str, Any], key: str) -> str:
    """``params[key]`` if it is a string, else ``""`` (``null`` included)."""
    value = params.get(key)
    return value if isinstance(value, str) else ""


def _obj(params: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``params[key]`` if it is an object, else an empty mapping."""
    value = params.get(key)
    return value if isinstance(value, Mapping) else _EMPTY


def _num(value: object) -> float | None:
    """A JSON number or numeric string as a float; ``None`` for anything else.

    Booleans are not numbers here: ``true`` is never a duration.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        # "nan"/"inf" parse as floats but are no one's duration or page count.
        return number if number == number and abs(number) != float("inf") else None
    return None


def _float(params: Mapping[str, Any], key: str) -> float:
    """``params[key]`` as a float (numbers and numeric strings), else ``0.0``."""
    number = _num(params.get(key))
    return 0.0 if number is None else number


def _int(params: Mapping[str, Any], key: str) -> int:
    """``params[key]`` as an int (integral numbers and strings), else ``0``."""
    number = _num(params.get(key))
    return int(number) if number is not None and number.is_integer() else 0


def _text(params: Mapping[str, Any], key: str) -> str:
    """``params[key]`` as text: strings as they are, numbers in decimal, else ``""``.

    For codes the sources send either way (fax ``result``: ``0`` or ``"1231"``).
    """
    value = params.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def envelope_timestamp(value: object) -> float:
    """The envelope's ``timestamp`` as epoch seconds: numbers or numeric strings, else 0.0."""
    if type(value) is float:  # the common case, checked first: this is the event hot path
        return value
    number = _num(value)
    return 0.0 if number is None else number


class FallbackDict(dict[str, Any]):
    """A wire object that also answers keys from a nested fallback mapping.

    ``FallbackDict({"type": "digit", "params": {"digits": "1"}}, fallback)``
    compares, iterates and serialises exactly like the wire dict, but
    ``d["digits"]`` and ``d.get("digits")`` find ``"1"`` in *fallback* when the
    key is not present at the top level.  Used for the seed docs' flat reads.
    """

    __slots__ = ("_fallback",)

    def __init__(self, data: Mapping[str, Any], fallback: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._fallback = fallback

    def __missing__(self, key: str) -> Any:
        return self._fallback[key]

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        return self._fallback.get(key, default)


@dataclass(frozen=True, slots=True)
class RelayEvent(Event):
    """Base of every ``signalwire.event`` the core parses.

    ``event_type`` and ``params`` may be given by position, as the official
    SDK's constructors take them; every other field is keyword-only.  (The
    official constructors take ``call_id`` third: here it is read from
    ``params``, so a third positional argument is a ``TypeError``, never a
    silently misplaced value.)

    Attributes:
        event_type: The envelope's ``event_type`` (``"calling.call.play"``).
        params: The raw inner ``params`` object, as received.
        timestamp: The envelope's ``timestamp`` (epoch seconds), 0.0 if absent.
    """

    event_type: str
    params: Mapping[str, Any]
    _: KW_ONLY
    timestamp: float = 0.0

    @classmethod
    def from_payload(cls: type[_E], payload: Mapping[str, Any]) -> _E:
        """Build this class from one ``signalwire.event`` envelope (its ``params``).

        As ``signalwire.relay.event.RelayEvent.from_payload``: *payload* is
        ``{"event_type": ..., "params": {...}, ...}`` and the result is an
        instance of *this* class whatever the event type says (use
        :func:`~relay_proto.parse_relay_event` to pick the class by type).
        Unlike the official method it never raises on bad input, copies
        ``params`` (the caller's dict is never changed), and reads the
        envelope's ``timestamp`` (falling back to one inside ``params``), as
        numbers or numeric strings.

        Args:
            payload: The envelope: the ``params`` of a ``signalwire.event`` request.

        Returns:
            The event, with the same typed views :func:`parse_relay_event` gives.
        """
        event_type = payload.get("event_type") if isinstance(payload, Mapping) else None
        raw = payload.get("params") if isinstance(payload, Mapping) else None
        params = dict(raw) if isinstance(raw, Mapping) else {}
        stamp = payload.get("timestamp") if isinstance(payload, Mapping) else None
        if stamp is None:
            stamp = params.get("timestamp")
        return cls._build(
            event_type if isinstance(event_type, str) else "", params, envelope_timestamp(stamp)
        )

    @classmethod
    def _build(cls: type[_E], event_type: str, params: dict[str, Any], timestamp: float) -> _E:
        """Construct from parsed envelope parts; subclasses add their views here."""
        return cls(event_type, params, timestamp=timestamp)

    @property
    def call_id(self) -> str:
        return _str(self.params, "call_id")

    @property
    def node_id(self) -> str:
        return _str(self.params, "node_id")

    @property
    def control_id(self) -> str:
        return _str(self.params, "control_id")

    @property
    def tag(self) -> str:
        return _str(self.params, "tag")

    @property
    def state(self) -> str:
        """The generic ``state`` field (play, record, tap, ...); ``""`` when absent."""
        return _str(self.params, "state")
