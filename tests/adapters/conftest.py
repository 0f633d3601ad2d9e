"""Fixtures for the adapter tests: the three runtimes and loopback servers.

Every runtime test runs three times: ``AnyioRuntime`` on asyncio,
``AnyioRuntime`` on trio, and ``TrioRuntime`` (on trio, of course).  anyio's
pytest plugin runs the test on the ``anyio_backend`` the case names.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme

from relay_anyio import AnyioRuntime
from relay_trio import TrioRuntime

RUNTIME_CASES = [
    pytest.param(("asyncio", "anyio"), id="anyio-asyncio"),
    pytest.param(("trio", "anyio"), id="anyio-trio"),
    pytest.param(("trio", "trio"), id="trio"),
]


@pytest.fixture(params=RUNTIME_CASES)
def runtime_case(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def anyio_backend(runtime_case: tuple[str, str]) -> str:
    return runtime_case[0]


@pytest.fixture
def runtime(runtime_case: tuple[str, str]) -> Any:
    backend, kind = runtime_case
    return AnyioRuntime(backend=backend) if kind == "anyio" else TrioRuntime()


class TLSFiles:
    """A private CA (trustme) and a server certificate for 127.0.0.1."""

    def __init__(self, tmp: Path) -> None:
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = str(tmp / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(context)
        return context


@pytest.fixture
def tls_files(tmp_path: Path) -> TLSFiles:
    return TLSFiles(tmp_path)
