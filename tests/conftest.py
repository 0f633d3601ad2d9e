"""Suite-wide test settings.

* Hypothesis runs a fixed, derandomized profile in CI and by default, so every run
  of the suite explores exactly the same examples.  Long random runs live in
  ``fuzz/`` (``make fuzz``); select them here with ``HYPOTHESIS_PROFILE=dev``.
* Every test has a timeout (``timeout = 60`` in pyproject; tighter per test where
  it matters) so a hang fails fast instead of stalling CI.
* The other end of a WebSocket is always ``tests/_peers.py``'s ``WsPeer``
  (wsproto, independent of relay_proto); the object model meets the emulator in
  memory on a virtual clock unless a test needs a socket (the rules are in
  ``tests/integration/conftest.py``).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    """The integration cases' markers (tests/integration/conftest.py), registered first:
    that conftest builds a mark at import time."""
    for line in (
        "loopback: also run over loopback sockets, on every real transport",
        "sockets: needs real sockets (TLS, httpx-ws, a child process): loopback only",
        "cases(*ids): run on exactly these integration cases (integration conftest ALL_CASES)",
    ):
        config.addinivalue_line("markers", line)
