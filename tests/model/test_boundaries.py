"""The object model's objects talk through stated contracts, not each other's privates.

The count is the architecture review's (row 7): an ``ast.Attribute`` whose
attribute starts with ``_`` (not ``__``) and whose value is not the name
``self`` or ``cls``, over every module of ``relaykit/client``.  It was 38
before the Dispatcher and the builders; what is left is listed below, each
with the reason it stays.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(30)

CLIENT = Path(__file__).resolve().parents[2] / "relaykit" / "client"

#: (module, expression) -> (how many times, why).  Every entry is the same
#: shape: a public constructor takes the user-facing parent (the official
#: SDK's signatures ``Call(client, ...)``, ``Message(client=...)`` and
#: ``Action(call, control_id)``), and the object reaches the engine behind it.
ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("_call_base.py", "client._dispatcher"): (
        1,
        "Call(client, ...) is the official signature; the call keeps the client's dispatcher",
    ),
    ("_message.py", "client._dispatcher"): (
        1,
        "Message(client=...) likewise keeps the client's dispatcher",
    ),
    ("_actions.py", "call._hub"): (
        1,
        "Action(call, control_id) is the official signature; the action keeps the dispatcher",
    ),
    ("_actions.py", "self.call._execute"): (
        1,
        "an action's stop/pause/volume are commands on its call, sent the call's way "
        "(call-gone rule, catch-up for the call's next wait_for), as in the official SDK",
    ),
}


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


def test_no_private_reads_across_objects_beyond_the_listed_ones() -> None:
    reads = all_reads()
    unexpected = {key: n for key, n in reads.items() if key not in ALLOWED}
    assert unexpected == {}
    too_many = {key: n for key, n in reads.items() if key in ALLOWED and n > ALLOWED[key][0]}
    assert too_many == {}


def test_every_allowed_exception_is_still_needed() -> None:
    reads = all_reads()
    stale = {key for key, (count, _why) in ALLOWED.items() if reads.get(key) != count}
    assert stale == set()
    assert sum(reads.values()) == 4


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
