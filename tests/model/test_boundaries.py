"""The object model's objects talk through stated contracts, not each other's privates.

The count is the architecture review's (row 7): an ``ast.Attribute`` whose
attribute starts with ``_`` (not ``__``) and whose value is not the name
``self`` or ``cls``, over every module of ``relaykit/client``.  It was 38
before the Dispatcher and the builders, then 4, all of one shape: a public
constructor takes the user-facing parent (the official SDK's signatures
``Call(client, ...)``, ``Message(client=...)`` and ``Action(call,
control_id)``) and the object reached into it for the engine, and an action's
commands went through its call's private ``_execute``.  Now none: the parent
hands out its engine by a documented internal link (``RelayClient.dispatcher``,
``Call.dispatcher``), every command on a call goes through
``Dispatcher.call_command``, and the dispatcher talks back to a call only
through its methods documented as "called by the dispatcher only".
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(30)

CLIENT = Path(__file__).resolve().parents[2] / "relaykit" / "client"


def private_reads(source: str) -> Counter[str]:
    """``x._y`` reads in *source* with ``x`` not ``self``/``cls``, by expression."""
    tree = ast.parse(source)
    found: Counter[str] = Counter()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            and ast.unparse(node.value) != "type(self)"  # the object's own class
        ):
            found[ast.unparse(node)] += 1
    return found


def all_reads() -> dict[tuple[str, str], int]:
    reads: dict[tuple[str, str], int] = {}
    for path in sorted(CLIENT.rglob("*.py")):
        for expr, count in private_reads(path.read_text(encoding="utf-8")).items():
            reads[(str(path.relative_to(CLIENT)), expr)] = count
    return reads


def test_no_private_reads_across_objects() -> None:
    assert all_reads() == {}


def test_the_counter_counts() -> None:
    # The walker itself: a read through another name counts, self/cls/dunders do not.
    sample = "a._x\nself._y\ncls._z\ntype(self)._t\nb.__dict__\nsuper()._w\nf()._v\na._x\n"
    assert private_reads(sample) == Counter({"a._x": 2, "super()._w": 1, "f()._v": 1})


def test_no_mixins_in_the_object_model() -> None:
    for path in CLIENT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                assert not node.name.endswith("Mixin"), (path.name, node.name)
